-- AI jobs (ADR 0012): one queue for every org, so workers claim with one indexed query instead of one per
-- tenant schema. Rows carry org_id; the project lives in the org's schema (no foreign key across layers).
CREATE TABLE worker_tokens (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  name text NOT NULL,
  prefix text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
--> statement-breakpoint
CREATE INDEX worker_tokens_org_idx ON worker_tokens (org_id);
--> statement-breakpoint
-- A worker process as the server knows it; its id outlives a connection, so a worker that reconnects (or
-- meets a restarted server) resumes its leases. org_id and token_id are null for the instance-wide worker.
CREATE TABLE workers (
  id uuid PRIMARY KEY,
  org_id uuid REFERENCES orgs (id) ON DELETE CASCADE,
  token_id uuid REFERENCES worker_tokens (id) ON DELETE CASCADE,
  name text NOT NULL,
  version text NOT NULL,
  concurrency integer NOT NULL,
  connected_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  disconnected_at timestamptz
);
--> statement-breakpoint
CREATE INDEX workers_org_idx ON workers (org_id);
--> statement-breakpoint
CREATE TABLE jobs (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  project_id uuid NOT NULL,
  task_id uuid,
  kind text NOT NULL CHECK (kind IN ('implement', 'review', 'fix')),
  instructions text NOT NULL,
  state text NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'dispatched', 'running', 'completed', 'failed', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  run_after timestamptz NOT NULL DEFAULT now(),
  worker_id uuid REFERENCES workers (id) ON DELETE SET NULL,
  lease_expires_at timestamptz,
  -- SHA-256 of the current attempt's job token; cleared when the attempt ends.
  token_hash text UNIQUE,
  cancel_requested boolean NOT NULL DEFAULT false,
  cancel_requested_at timestamptz,
  failure_code text,
  failure_message text,
  result jsonb,
  -- Events are numbered under this row's lock, so replicas appending to one job never collide.
  last_seq integer NOT NULL DEFAULT 0,
  requested_by uuid REFERENCES users (id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz
);
--> statement-breakpoint
CREATE INDEX jobs_queue_idx ON jobs (created_at) WHERE state = 'queued';
--> statement-breakpoint
CREATE INDEX jobs_leases_idx ON jobs (lease_expires_at) WHERE state IN ('dispatched', 'running');
--> statement-breakpoint
CREATE INDEX jobs_worker_idx ON jobs (worker_id) WHERE state IN ('dispatched', 'running');
--> statement-breakpoint
CREATE INDEX jobs_org_idx ON jobs (org_id, project_id, created_at);
--> statement-breakpoint
CREATE INDEX jobs_task_idx ON jobs (task_id) WHERE task_id IS NOT NULL;
--> statement-breakpoint
CREATE TABLE job_events (
  job_id uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  attempt integer NOT NULL,
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, seq)
);
