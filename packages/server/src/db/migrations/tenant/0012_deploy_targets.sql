-- External deploy targets (deployments/targets/, ADR 0024): an org's accounts at Vercel, Netlify or Cloudflare
-- Pages. The token is sealed with the secret box (bound to the row), like model provider keys.
CREATE TABLE deploy_targets (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('vercel', 'netlify', 'cloudflare-pages')),
  name text NOT NULL UNIQUE,
  token_sealed text NOT NULL,
  token_hint text NOT NULL,
  team_id text,
  account_id text,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
-- Per project and target: the provider's project/site (made by the first deployment) and auto-deploy.
CREATE TABLE project_deploy_targets (
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  target_id uuid NOT NULL REFERENCES deploy_targets(id) ON DELETE CASCADE,
  provider_project text,
  auto_deploy boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, target_id)
);
--> statement-breakpoint
-- A deployment to an external target: where it went, the provider's id for it and its address there.
ALTER TABLE deployments
  ADD COLUMN target_id uuid REFERENCES deploy_targets(id) ON DELETE SET NULL,
  ADD COLUMN target_name text,
  ADD COLUMN target_kind text,
  ADD COLUMN provider_deployment_id text,
  ADD COLUMN url text;
