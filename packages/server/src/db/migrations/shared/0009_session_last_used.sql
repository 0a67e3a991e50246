-- When each session last signed in or refreshed its access token, for the account page's session list.
-- Sessions from before count as last used when they were created.
ALTER TABLE sessions ADD COLUMN last_used_at timestamptz NOT NULL DEFAULT now();
--> statement-breakpoint
UPDATE sessions SET last_used_at = created_at;
