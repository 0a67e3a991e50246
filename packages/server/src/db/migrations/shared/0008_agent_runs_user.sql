-- Who started each running turn, so concurrent turns can be capped per user as well as per org (limits/);
-- and the orgs a user created, counted against their cap.
-- Runs from before have none and count for their org only; they end with their turn.
ALTER TABLE agent_runs ADD COLUMN user_id uuid;
--> statement-breakpoint
CREATE INDEX agent_runs_user_idx ON agent_runs (user_id);
--> statement-breakpoint
CREATE INDEX agent_runs_org_idx ON agent_runs (org_id);
--> statement-breakpoint
CREATE INDEX orgs_created_by_idx ON orgs (created_by);
