-- Every org's audit log (audit/, ADR 0033). Shared, not per tenant schema: membership, sign-in and token
-- changes commit in the shared layer, and a row must be written in the same transaction as its change;
-- from a tenant transaction the unqualified name resolves here too (no tenant table shares it). No foreign
-- keys: the record outlives the org, project or person it names, until retention removes it.
CREATE TABLE audit_events (
  seq bigserial PRIMARY KEY,
  id uuid NOT NULL UNIQUE,
  org_id uuid NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  action text NOT NULL,
  actor_type text NOT NULL,
  actor_user_id uuid,
  actor_email text,
  project_id uuid,
  target_type text,
  target_id text,
  target_label text,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  ip text
);
--> statement-breakpoint
CREATE INDEX audit_events_org_seq ON audit_events (org_id, seq DESC);
--> statement-breakpoint
CREATE INDEX audit_events_org_actor ON audit_events (org_id, actor_user_id, seq DESC);
--> statement-breakpoint
CREATE INDEX audit_events_at ON audit_events (at);
--> statement-breakpoint
-- Append-only: no update ever, and a delete only by retention (which sets kiln.audit_prune in its own
-- transaction). A bug or an injected statement cannot rewrite the record.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('kiln.audit_prune', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_events is append-only (%)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
