-- A finished job's streamed text (one agent text-delta event per chunk) is merged into one event per run of
-- chunks once nobody follows the job any more; events_compacted_at records that it was (jobs/compaction.ts).
ALTER TABLE jobs ADD COLUMN events_compacted_at timestamptz;
--> statement-breakpoint
CREATE INDEX jobs_events_uncompacted_idx ON jobs (finished_at) WHERE events_compacted_at IS NULL AND finished_at IS NOT NULL;
