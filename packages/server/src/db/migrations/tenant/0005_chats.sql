-- Chats: a project's conversations with the agent. Messages keep their parts (text, tool calls with results)
-- as JSON, written while they stream; chat_events keeps every event of a run in order, so a browser that
-- reconnects (Last-Event-ID) or another replica can replay what it missed.
CREATE TABLE chats (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  title text NOT NULL,
  mode text NOT NULL DEFAULT 'allow',
  model text,
  approve_all boolean NOT NULL DEFAULT false,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX chats_project_idx ON chats (project_id, updated_at DESC);
--> statement-breakpoint
CREATE TABLE chat_messages (
  id uuid PRIMARY KEY,
  chat_id uuid NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
  role text NOT NULL,
  parts jsonb NOT NULL DEFAULT '[]',
  status text NOT NULL,
  reason text,
  detail text,
  model text,
  usage jsonb,
  checkpoint_sha text,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX chat_messages_chat_idx ON chat_messages (chat_id, created_at);
--> statement-breakpoint
CREATE INDEX chat_messages_running_idx ON chat_messages (status) WHERE status = 'running';
--> statement-breakpoint
CREATE TABLE chat_events (
  message_id uuid NOT NULL REFERENCES chat_messages(id) ON DELETE CASCADE,
  seq integer NOT NULL,
  event jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (message_id, seq)
);
