-- A project's environment variables. Every value is sealed with SecretBox (bound to org, project and name),
-- plain or secret; `secret` decides only whether the API ever shows it again. `hint` is a long secret's last
-- characters, kept so listing never opens one.
CREATE TABLE project_env_vars (
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name text NOT NULL,
  secret boolean NOT NULL DEFAULT false,
  value_sealed text NOT NULL,
  hint text,
  updated_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, name)
);
