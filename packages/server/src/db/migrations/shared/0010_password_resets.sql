-- Password reset by emailed link (auth/password-reset.ts). One live row per account: asking again replaces
-- it; using it deletes it. The link's secret is stored as its SHA-256. `email` is the address it was mailed
-- to: a link outlives no change of the account's address.
CREATE TABLE password_resets (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
  email text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
