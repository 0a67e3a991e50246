-- A person's inbox (notifications/, ADR 0032): one row per thing they were told, read in the studio and
-- mailed in batches.
CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  org_id uuid REFERENCES orgs (id) ON DELETE CASCADE,
  kind text NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  link text NOT NULL,
  -- False when the person turned the inbox off for this kind but still wants the mail.
  in_app boolean NOT NULL DEFAULT true,
  read_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Set when the mail that carries it is due (null: no mail); emailed_at once sent or skipped.
  email_due_at timestamptz,
  emailed_at timestamptz
);
--> statement-breakpoint
CREATE INDEX notifications_user_created ON notifications (user_id, created_at DESC);
--> statement-breakpoint
CREATE INDEX notifications_email_due ON notifications (email_due_at) WHERE emailed_at IS NULL AND email_due_at IS NOT NULL;
--> statement-breakpoint
-- What a person turned on or off; a missing row means the kind's default for the channel.
CREATE TABLE notification_preferences (
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  kind text NOT NULL,
  channel text NOT NULL,
  enabled boolean NOT NULL,
  PRIMARY KEY (user_id, kind, channel)
);
