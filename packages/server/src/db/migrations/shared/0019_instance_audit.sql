-- The instance administrator's own actions (admin/, ADR 0034) are recorded in the audit log with no org:
-- suspending or deleting an account, deleting an org, changing who may sign up. An org's log reads its own
-- org_id only, so these rows never appear in one; retention prunes them like any other.
ALTER TABLE audit_events ALTER COLUMN org_id DROP NOT NULL;
--> statement-breakpoint
CREATE INDEX audit_events_instance_seq ON audit_events (seq DESC) WHERE org_id IS NULL;
