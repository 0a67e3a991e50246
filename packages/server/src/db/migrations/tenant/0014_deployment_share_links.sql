-- Share links of one deployment (deployments/version-shares.ts): only the token's SHA-256 is kept.
CREATE TABLE deployment_share_links (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  deployment_id uuid NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  label text NOT NULL DEFAULT '',
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz
);
--> statement-breakpoint
CREATE INDEX deployment_share_links_deployment_idx ON deployment_share_links (deployment_id);
