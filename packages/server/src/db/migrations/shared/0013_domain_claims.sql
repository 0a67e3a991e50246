-- Every org's custom domains by hostname (domains/, ADR 0026): the one place a request's Host is looked up
-- in, across all tenants. Any number of orgs may have a hostname pending; at most one has it verified.
CREATE TABLE domain_claims (
  domain_id uuid PRIMARY KEY,
  hostname text NOT NULL,
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  -- The project in the org's schema (no foreign key across schemas: its deletion removes the claim).
  project_id uuid NOT NULL,
  verified boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE UNIQUE INDEX domain_claims_verified_idx ON domain_claims (hostname) WHERE verified;
--> statement-breakpoint
CREATE INDEX domain_claims_hostname_idx ON domain_claims (hostname);
