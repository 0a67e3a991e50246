-- An org bound to a single sign-on provider for its email domains (auth/oidc/org-sso.ts, ADR 0031).
CREATE TABLE org_sso (
  org_id uuid PRIMARY KEY REFERENCES orgs (id) ON DELETE CASCADE,
  provider text NOT NULL,
  default_role text NOT NULL,
  group_roles jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
-- A domain counts once its DNS TXT record proves it; one org at a time may hold it verified, any number
-- may be trying (nobody blocks a domain by naming it first).
CREATE TABLE org_sso_domains (
  org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
  domain text NOT NULL,
  token text NOT NULL,
  verified_at timestamptz,
  last_error text,
  PRIMARY KEY (org_id, domain)
);
--> statement-breakpoint
CREATE UNIQUE INDEX org_sso_domains_verified_key ON org_sso_domains (domain) WHERE verified_at IS NOT NULL;
--> statement-breakpoint
-- Memberships single sign-on made (and may change or take back); others it leaves alone.
ALTER TABLE memberships ADD COLUMN via_sso boolean NOT NULL DEFAULT false;
--> statement-breakpoint
-- A session begun through a provider, with the provider's refresh token (sealed): asked again at each
-- refresh of the session, so someone the provider no longer vouches for is signed out.
ALTER TABLE sessions ADD COLUMN sso_provider text;
--> statement-breakpoint
ALTER TABLE sessions ADD COLUMN sso_refresh_sealed text;
