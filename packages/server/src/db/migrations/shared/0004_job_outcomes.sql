-- What a finished job did to its task (comment, move to Review) is applied after the job's final state is
-- stored; outcome_applied_at records that it was, so a server that died in between leaves a job another
-- server's sweeper finds and applies (ADR 0012). Jobs finished before this migration count as applied.
ALTER TABLE jobs ADD COLUMN outcome_applied_at timestamptz;
--> statement-breakpoint
UPDATE jobs SET outcome_applied_at = finished_at WHERE finished_at IS NOT NULL;
--> statement-breakpoint
CREATE INDEX jobs_outcome_pending_idx ON jobs (finished_at) WHERE outcome_applied_at IS NULL;
