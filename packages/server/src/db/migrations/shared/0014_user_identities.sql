-- Identities at single sign-on providers linked to accounts (auth/oidc/). A provider's subject is
-- stable and never reassigned (OpenID Connect Core §2), so (provider, subject) names one person there.
CREATE TABLE user_identities (
  provider text NOT NULL,
  subject text NOT NULL,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  PRIMARY KEY (provider, subject)
);
--> statement-breakpoint
CREATE UNIQUE INDEX user_identities_user_provider_key ON user_identities (user_id, provider);
