-- The queue of webhook deliveries (webhooks/dispatcher.ts), one for every org so one poller serves them
-- all: a row per event per webhook, claimed with SKIP LOCKED by any replica, retried with backoff.
-- The webhook itself (URL, sealed secret) lives in the org's schema and is read at each attempt, so a
-- webhook changed or deleted meanwhile is honoured.
CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  webhook_id uuid NOT NULL,
  event text NOT NULL,
  payload jsonb NOT NULL,
  state text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  lease_expires_at timestamptz,
  last_status integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
--> statement-breakpoint
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
--> statement-breakpoint
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC);
