-- Preview hand-off tokens already exchanged (preview/handoffs.ts): a token works once, on whichever replica
-- gets it first. A row is kept only until its token would have expired anyway.
CREATE TABLE preview_handoffs (
  token_id uuid PRIMARY KEY,
  expires_at timestamptz NOT NULL
);
--> statement-breakpoint
CREATE INDEX preview_handoffs_expires_idx ON preview_handoffs (expires_at);
