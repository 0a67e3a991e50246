-- An org's outbound webhooks (webhooks/service.ts). The signing secret is SecretBox output bound to the row;
-- project_id narrows a webhook to one project's events.
CREATE TABLE webhooks (
  id uuid PRIMARY KEY,
  url text NOT NULL,
  families text[] NOT NULL,
  project_id uuid REFERENCES projects(id) ON DELETE CASCADE,
  active boolean NOT NULL DEFAULT true,
  secret_sealed text NOT NULL,
  secret_hint text NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
