-- Custom domains of a project's published app (domains/, ADR 0026). The hostname is also claimed in the
-- shared table domain_claims, which serving looks it up by and which keeps a verified hostname one org's.
CREATE TABLE custom_domains (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  hostname text NOT NULL UNIQUE,
  token text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified')),
  last_error text,
  checked_at timestamptz,
  verified_at timestamptz,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX custom_domains_project_idx ON custom_domains (project_id);
