-- A deleted account (auth/account-deletion.ts) keeps its row, scrubbed, so what it did still names
-- someone; this says when.
ALTER TABLE users ADD COLUMN deleted_at timestamptz;
