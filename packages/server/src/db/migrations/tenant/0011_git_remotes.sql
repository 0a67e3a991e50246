-- A project's linked git remote (remotes/): where main is pushed to and pulled from, and the last sync.
-- No credentials: a token travels with the one transfer that needs it.
CREATE TABLE git_remotes (
  project_id uuid PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  url text NOT NULL,
  branch text NOT NULL,
  remote_commit text,
  last_pushed_commit text,
  last_synced_at timestamptz,
  conflict jsonb,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
