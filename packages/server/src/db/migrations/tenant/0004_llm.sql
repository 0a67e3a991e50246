-- LLM gateway: the org's own providers (keys sealed with SecretBox, context bound to the row), price
-- overrides, settings, and one row per model call.
CREATE TABLE llm_providers (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE,
  kind text NOT NULL,
  base_url text,
  api_key_sealed text,
  api_key_hint text,
  models jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE llm_prices (
  id uuid PRIMARY KEY,
  model text NOT NULL UNIQUE,
  input_per_mtok double precision NOT NULL,
  output_per_mtok double precision NOT NULL,
  cached_input_per_mtok double precision,
  updated_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
-- One row at most (id = 1).
CREATE TABLE llm_settings (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  default_model text,
  rate_limit_per_minute integer,
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE llm_calls (
  id uuid PRIMARY KEY,
  project_id uuid,
  chat_id text,
  message_id text,
  job_id text,
  user_id uuid,
  source text NOT NULL,
  provider text NOT NULL,
  model text NOT NULL,
  stream boolean NOT NULL,
  input_tokens integer NOT NULL DEFAULT 0,
  output_tokens integer NOT NULL DEFAULT 0,
  cached_input_tokens integer NOT NULL DEFAULT 0,
  tokens_estimated boolean NOT NULL DEFAULT false,
  ttft_ms integer,
  duration_ms integer NOT NULL,
  cost_usd double precision,
  status text NOT NULL,
  error_code text,
  error_message text,
  attempts integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX llm_calls_created_idx ON llm_calls (created_at DESC, id DESC);
--> statement-breakpoint
CREATE INDEX llm_calls_project_idx ON llm_calls (project_id, created_at DESC);
--> statement-breakpoint
CREATE INDEX llm_calls_chat_idx ON llm_calls (chat_id, created_at DESC);
