-- Agent definitions (agents/, ADR 0035). An agent points at its current version; an edit adds a version row, so
-- a chat's turns can always show the version they ran, archived agents included. The built-in Kiln agent is
-- not stored: it is the same in every org and ships with Kiln.
CREATE TABLE agents (
  id uuid PRIMARY KEY,
  current_version integer NOT NULL CHECK (current_version > 0),
  archived_at timestamptz,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE agent_versions (
  agent_id uuid NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version > 0),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  icon text NOT NULL,
  system_prompt text NOT NULL,
  tools jsonb NOT NULL,
  default_model text,
  default_mode text CHECK (default_mode IN ('allow', 'ask', 'plan')),
  step_limit integer CHECK (step_limit > 0),
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (agent_id, version)
);
--> statement-breakpoint
-- A chat runs one agent version (null: from before agents, read as the built-in); each answer records the one it ran.
ALTER TABLE chats ADD COLUMN agent_id uuid;
--> statement-breakpoint
ALTER TABLE chats ADD COLUMN agent_version integer;
--> statement-breakpoint
ALTER TABLE chat_messages ADD COLUMN agent_id uuid;
--> statement-breakpoint
ALTER TABLE chat_messages ADD COLUMN agent_version integer;
