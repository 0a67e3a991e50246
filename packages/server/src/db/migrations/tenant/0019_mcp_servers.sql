-- MCP servers (mcp-client/, ADR 0039): tools an org's agents may be given. `secrets_sealed` holds the http
-- headers or stdio environment (JSON, sealed with the secret box); only their names are readable.
CREATE TABLE mcp_servers (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE,
  transport text NOT NULL CHECK (transport IN ('http', 'stdio')),
  url text,
  command jsonb,
  secret_names jsonb NOT NULL DEFAULT '[]',
  secrets_sealed text,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
-- The servers an agent version may use (ids; a removed server is skipped).
ALTER TABLE agent_versions ADD COLUMN mcp_servers jsonb NOT NULL DEFAULT '[]';
