-- Deployments (deployments/): production builds of a project. The artifact (files by digest, immutable) is
-- kept as JSON here; the bytes live in the data dir's content-addressed store, shared by all deployments.
-- A project serves its `current_deployment_id` at its public address; promoting another is one UPDATE.
CREATE TABLE deployments (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  number integer NOT NULL,
  status text NOT NULL CHECK (status IN ('building', 'ready', 'failed')),
  commit_sha text,
  artifact jsonb,
  file_count integer,
  byte_count bigint,
  log text NOT NULL DEFAULT '',
  error text,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (project_id, number)
);
--> statement-breakpoint
-- One build at a time per project.
CREATE UNIQUE INDEX deployments_one_building ON deployments (project_id) WHERE status = 'building';
--> statement-breakpoint
ALTER TABLE projects ADD COLUMN current_deployment_id uuid REFERENCES deployments(id) ON DELETE SET NULL;
