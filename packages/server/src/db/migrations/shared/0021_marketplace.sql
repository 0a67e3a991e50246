-- The marketplace (ADR 0040): instance-wide template listings, one per published project; each publish is a
-- version holding the files as a zip; installs remember the listing and version a project came from.
CREATE TABLE marketplace_listings (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  project_id uuid,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  template text NOT NULL,
  visibility text NOT NULL CHECK (visibility IN ('org', 'instance')),
  approved_at timestamptz,
  approved_by uuid,
  latest_version integer NOT NULL DEFAULT 0,
  installs integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE UNIQUE INDEX marketplace_listings_project ON marketplace_listings (org_id, project_id);
--> statement-breakpoint
CREATE TABLE marketplace_versions (
  listing_id uuid NOT NULL REFERENCES marketplace_listings(id) ON DELETE CASCADE,
  version integer NOT NULL,
  manifest jsonb NOT NULL,
  readme text,
  archive bytea NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (listing_id, version)
);
--> statement-breakpoint
CREATE TABLE marketplace_installs (
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  project_id uuid NOT NULL,
  listing_id uuid NOT NULL REFERENCES marketplace_listings(id) ON DELETE CASCADE,
  version integer NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, project_id)
);
