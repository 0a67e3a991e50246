import { randomUUID } from "node:crypto";
import type {
  AuditAction,
  Budget,
  BudgetPeriod,
  BudgetScope,
  BudgetUnit,
  CreateBudgetBody,
  UpdateBudgetBody,
} from "@kiln/protocol";
import { and, desc, eq, inArray } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import type { Database, Executor } from "../db/client.ts";
import { pgErrorCode, UNIQUE_VIOLATION } from "../db/errors.ts";
import { memberships } from "../db/schema-shared.ts";
import { budgetSpend, budgets, projects, tasks } from "../db/schema-tenant.ts";
import { ConflictError, NotFoundError, ValidationError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import { monthKey } from "./period.ts";

type Row = typeof budgets.$inferSelect;
type SpendRow = typeof budgetSpend.$inferSelect;

function toBudget(row: Row, spend: SpendRow | undefined): Budget {
  return {
    id: row.id,
    scope: row.scope as BudgetScope,
    scopeId: row.scopeId,
    period: row.period as BudgetPeriod,
    unit: row.unit as BudgetUnit,
    limit: row.hardLimit,
    softFraction: row.softFraction,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    spent: spend?.spent ?? 0,
    reserved: spend?.reserved ?? 0,
    periodKey: spend?.periodKey ?? null,
  };
}

/** An org's spend budgets (ADR 0029): members read them with their spend, admins set and raise them. */
export class BudgetService {
  readonly #database: Database;
  readonly #now: () => Date;

  constructor(database: Database, now: () => Date = () => new Date()) {
    this.#database = database;
    this.#now = now;
  }

  async list(access: OrgAccess): Promise<Budget[]> {
    requirePermission(access.role, "llm.read");
    return this.#database.tenant(access.org.schemaName, async (tx) => {
      const rows = await tx.select().from(budgets).orderBy(budgets.createdAt, budgets.id);
      return Promise.all(rows.map(async (row) => toBudget(row, await this.#spendOf(tx, row))));
    });
  }

  async create(access: OrgAccess, input: CreateBudgetBody): Promise<Budget> {
    requirePermission(access.role, "llm.manage");
    const scopeId = input.scope === "org" ? null : (input.scopeId ?? null);
    if (input.scope === "org" && input.scopeId !== undefined)
      throw new ValidationError("an org budget names no scopeId");
    if (input.scope !== "org" && scopeId === null)
      throw new ValidationError(`a ${input.scope} budget needs the ${input.scope}'s id as scopeId`);
    try {
      const row = await this.#database.tenant(access.org.schemaName, async (tx) => {
        if (scopeId !== null) await assertScopeExists(tx, access.org.id, input.scope, scopeId);
        const [created] = await tx
          .insert(budgets)
          .values({
            id: randomUUID(),
            scope: input.scope,
            scopeId,
            period: input.period,
            unit: input.unit,
            hardLimit: input.limit,
            softFraction: input.softFraction ?? 0.8,
            createdBy: access.userId,
          })
          .returning();
        await auditBudget(tx, access, "budget.set", created!, { created: true });
        return created!;
      });
      return toBudget(row, undefined);
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) {
        throw new ConflictError(
          "budget_exists",
          `this ${input.scope} already has a ${input.period} budget; raise that one instead`,
        );
      }
      throw err;
    }
  }

  async update(access: OrgAccess, id: string, input: UpdateBudgetBody): Promise<Budget> {
    requirePermission(access.role, "llm.manage");
    return this.#database.tenant(access.org.schemaName, async (tx) => {
      const [row] = await tx
        .update(budgets)
        .set({
          ...(input.limit === undefined ? {} : { hardLimit: input.limit }),
          ...(input.softFraction === undefined ? {} : { softFraction: input.softFraction }),
          updatedAt: new Date(),
        })
        .where(eq(budgets.id, id))
        .returning();
      if (!row) throw new NotFoundError("budget_not_found", "budget not found");
      await auditBudget(tx, access, "budget.set", row, { created: false });
      return toBudget(row, await this.#spendOf(tx, row));
    });
  }

  async remove(access: OrgAccess, id: string): Promise<Budget> {
    requirePermission(access.role, "llm.manage");
    return this.#database.tenant(access.org.schemaName, async (tx) => {
      const [row] = await tx.delete(budgets).where(eq(budgets.id, id)).returning();
      if (!row) throw new NotFoundError("budget_not_found", "budget not found");
      await auditBudget(tx, access, "budget.removed", row);
      return toBudget(row, undefined);
    });
  }

  /** This month's spend of a monthly budget; the latest run's of a per-run one. */
  async #spendOf(tx: Executor, row: Row): Promise<SpendRow | undefined> {
    const where =
      row.period === "monthly"
        ? and(eq(budgetSpend.budgetId, row.id), eq(budgetSpend.periodKey, monthKey(this.#now())))
        : eq(budgetSpend.budgetId, row.id);
    const [spend] = await tx
      .select()
      .from(budgetSpend)
      .where(where)
      .orderBy(desc(budgetSpend.updatedAt))
      .limit(1);
    return spend;
  }
}

/** A budget set or removed, in the change's transaction; a project's (or its task's) carries the project. */
async function auditBudget(
  tx: Executor,
  access: OrgAccess,
  action: AuditAction,
  row: Row,
  extra: Record<string, unknown> = {},
): Promise<void> {
  let projectId: string | null = null;
  if (row.scope === "project") projectId = row.scopeId;
  else if (row.scope === "task" && row.scopeId) {
    const [t] = await tx.select({ projectId: tasks.projectId }).from(tasks).where(eq(tasks.id, row.scopeId));
    projectId = t?.projectId ?? null;
  }
  await recordAudit(tx, {
    orgId: access.org.id,
    action,
    actor: userActor(access),
    projectId,
    target: { type: "budget", id: row.id, label: `${row.scope} ${row.period}` },
    data: {
      scope: row.scope,
      scopeId: row.scopeId,
      period: row.period,
      unit: row.unit,
      limit: row.hardLimit,
      softFraction: row.softFraction,
      ...extra,
    },
  });
}

/** The project, member or task a budget names, in this org; 404 with the scope's own code otherwise. */
async function assertScopeExists(tx: Executor, orgId: string, scope: BudgetScope, id: string): Promise<void> {
  if (scope === "project") {
    const [p] = await tx.select({ id: projects.id }).from(projects).where(eq(projects.id, id));
    if (!p) throw new NotFoundError("project_not_found", "no such project in this org");
  } else if (scope === "user") {
    const [m] = await tx
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(and(eq(memberships.orgId, orgId), inArray(memberships.userId, [id])));
    if (!m) throw new NotFoundError("member_not_found", "no such member of this org");
  } else if (scope === "task") {
    const [t] = await tx.select({ id: tasks.id }).from(tasks).where(eq(tasks.id, id));
    if (!t) throw new NotFoundError("task_not_found", "no such task in this org");
  }
}
