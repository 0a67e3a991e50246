-- Spend budgets (budgets/, ADR 0029): a hard cap on model spend per org, project, user or board task, per
-- calendar month or per run, in USD or tokens. scope_id is null for the org's own budgets; it names a project,
-- member or task (checked when the budget is made; no foreign key, as it points at different tables).
CREATE TABLE budgets (
  id uuid PRIMARY KEY,
  scope text NOT NULL CHECK (scope IN ('org', 'project', 'user', 'task')),
  scope_id uuid,
  period text NOT NULL CHECK (period IN ('monthly', 'run')),
  unit text NOT NULL CHECK (unit IN ('usd', 'tokens')),
  hard_limit double precision NOT NULL CHECK (hard_limit > 0),
  soft_fraction double precision NOT NULL DEFAULT 0.8 CHECK (soft_fraction > 0 AND soft_fraction <= 1),
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((scope = 'org') = (scope_id IS NULL))
);
--> statement-breakpoint
CREATE UNIQUE INDEX budgets_scope_period ON budgets (scope, coalesce(scope_id, '00000000-0000-0000-0000-000000000000'::uuid), period);
--> statement-breakpoint
-- One row per budget and period (`YYYY-MM`, or `run:<job or message id>`): what settled calls spent and what
-- running calls hold. A call reserves with one guarded UPDATE (spent + reserved + estimate <= limit) and
-- settles afterwards; soft_notified_at makes the soft-cap notice once per period.
CREATE TABLE budget_spend (
  budget_id uuid NOT NULL REFERENCES budgets(id) ON DELETE CASCADE,
  period_key text NOT NULL,
  spent double precision NOT NULL DEFAULT 0,
  reserved double precision NOT NULL DEFAULT 0,
  soft_notified_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (budget_id, period_key)
);
