-- Agent runs in flight, across all orgs, so a starting server finds the runs a crashed one left behind with
-- one query instead of one per tenant schema. A row lives only while its run does.
CREATE TABLE agent_runs (
  message_id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  chat_id uuid NOT NULL,
  owner text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);
