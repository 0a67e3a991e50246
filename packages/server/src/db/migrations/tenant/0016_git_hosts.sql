-- Connected git hosts (git-hosts/, ADR 0028): an org's GitHub, GitLab or Gitea account. The token is sealed
-- with the secret box (bound to the row), like deploy targets' tokens; the login is the token's account.
CREATE TABLE git_hosts (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('github', 'gitlab', 'gitea')),
  name text NOT NULL UNIQUE,
  api_url text NOT NULL,
  git_url text NOT NULL,
  login text NOT NULL,
  token_sealed text NOT NULL,
  token_hint text NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
-- A linked remote may use a connection's token; removing the connection leaves the link (a token per action).
ALTER TABLE git_remotes ADD COLUMN host_id uuid REFERENCES git_hosts(id) ON DELETE SET NULL;
