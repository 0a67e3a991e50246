-- The agent version a job runs (ADR 0036), recorded when the job is created: its id and version, and the
-- spec the worker needs (workers have no database). Null on jobs from before agents: they run the built-in.
ALTER TABLE jobs ADD COLUMN agent_id uuid;
--> statement-breakpoint
ALTER TABLE jobs ADD COLUMN agent_version integer;
--> statement-breakpoint
ALTER TABLE jobs ADD COLUMN agent_spec jsonb;
