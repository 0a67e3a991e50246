-- The instance administrator's controls (admin/, ADR 0034): a suspended account cannot sign in and its
-- sessions and tokens stop working; instance-wide settings such as who may sign up.
ALTER TABLE users ADD COLUMN suspended_at timestamptz;
--> statement-breakpoint
CREATE TABLE instance_settings (
  key text PRIMARY KEY,
  value jsonb NOT NULL,
  updated_by uuid,
  updated_at timestamptz NOT NULL DEFAULT now()
);
