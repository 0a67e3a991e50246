-- Task boards: a per-project workflow (statuses and the moves allowed between them), tasks ordered within a
-- status by a fractional key (a drag rewrites one row), comments, an activity log and automation rules.
-- One row per project that has a board; it is also the lock that serialises structural task changes and holds
-- the next per-project task number.
CREATE TABLE workflows (
  project_id uuid PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  template text NOT NULL,
  next_task_number integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE workflow_statuses (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES workflows(project_id) ON DELETE CASCADE,
  name text NOT NULL,
  status_group text NOT NULL,
  color text NOT NULL,
  position integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE UNIQUE INDEX workflow_statuses_name_idx ON workflow_statuses (project_id, lower(name));
--> statement-breakpoint
CREATE TABLE workflow_transitions (
  from_status_id uuid NOT NULL REFERENCES workflow_statuses(id) ON DELETE CASCADE,
  to_status_id uuid NOT NULL REFERENCES workflow_statuses(id) ON DELETE CASCADE,
  PRIMARY KEY (from_status_id, to_status_id)
);
--> statement-breakpoint
-- status_id has no ON DELETE action: a status that holds tasks cannot be deleted, but deleting the project
-- removes both (NO ACTION is checked at the end of the cascading statement).
-- position is compared byte-wise (COLLATE "C"): the keys are built for that order, not a locale's.
CREATE TABLE tasks (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  number integer NOT NULL,
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  status_id uuid NOT NULL REFERENCES workflow_statuses(id),
  priority text NOT NULL DEFAULT 'none',
  assignee_type text,
  assignee_user_id uuid,
  labels jsonb NOT NULL DEFAULT '[]',
  parent_id uuid REFERENCES tasks(id) ON DELETE SET NULL,
  position text COLLATE "C" NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, number)
);
--> statement-breakpoint
CREATE INDEX tasks_board_idx ON tasks (project_id, status_id, position);
--> statement-breakpoint
CREATE INDEX tasks_parent_idx ON tasks (parent_id) WHERE parent_id IS NOT NULL;
--> statement-breakpoint
CREATE TABLE task_comments (
  id uuid PRIMARY KEY,
  task_id uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  author_type text NOT NULL,
  author_user_id uuid,
  author_ref text,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  edited_at timestamptz
);
--> statement-breakpoint
CREATE INDEX task_comments_task_idx ON task_comments (task_id, created_at);
--> statement-breakpoint
-- Entries written in one transaction share now(); the sequence keeps them in the order they happened.
CREATE SEQUENCE task_activity_seq;
--> statement-breakpoint
CREATE TABLE task_activity (
  id bigint PRIMARY KEY DEFAULT nextval('task_activity_seq'),
  task_id uuid NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  actor_type text NOT NULL,
  actor_user_id uuid,
  actor_ref text,
  depth integer NOT NULL DEFAULT 0,
  kind text NOT NULL,
  from_value jsonb,
  to_value jsonb,
  message text,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX task_activity_task_idx ON task_activity (task_id, id);
--> statement-breakpoint
CREATE TABLE automation_rules (
  id uuid PRIMARY KEY,
  project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  trigger jsonb NOT NULL,
  conditions jsonb NOT NULL DEFAULT '{}',
  actions jsonb NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE INDEX automation_rules_project_idx ON automation_rules (project_id, created_at);
