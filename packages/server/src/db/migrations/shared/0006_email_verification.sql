-- Email ownership (auth/email-verification.ts). An address belongs to the one account that proved it with
-- a code or link sent there; unverified accounts may name any address, several the same one, so an
-- unverified sign-up can never keep the real owner out (ADR: email verification). Accounts that existed
-- before this migration start unverified: their addresses were never proven either.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;
--> statement-breakpoint
DROP INDEX users_email_key;
--> statement-breakpoint
CREATE UNIQUE INDEX users_verified_email_key ON users (lower(email)) WHERE email_verified_at IS NOT NULL;
--> statement-breakpoint
CREATE INDEX users_email_idx ON users (lower(email));
--> statement-breakpoint
-- One live row per account: sending a new code replaces the previous one; verifying deletes it. The link
-- secret is stored as its SHA-256, the six-digit code as an HMAC under a server key (a plain hash of a
-- million possible codes is no protection), each single use, the code with a budget of wrong attempts.
CREATE TABLE email_verifications (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  email text NOT NULL,
  link_hash text NOT NULL UNIQUE,
  code_hash text NOT NULL,
  code_attempts integer NOT NULL DEFAULT 0,
  code_expires_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX email_verifications_user_idx ON email_verifications (user_id);
