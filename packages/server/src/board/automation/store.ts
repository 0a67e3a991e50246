import type {
  AutomationAction,
  AutomationConditions,
  AutomationRule,
  AutomationTrigger,
} from "@kiln/protocol";
import { and, asc, eq } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import { automationRules } from "../../db/schema-tenant.ts";
import { NotFoundError } from "../../errors/errors.ts";
import { looksLikeId } from "../../orgs/slug.ts";

/** Row ↔ wire mapping and the queries rules need. Every function runs inside `database.tenant`. */

export type RuleRow = typeof automationRules.$inferSelect;

export function toRule(row: RuleRow): AutomationRule {
  return {
    id: row.id,
    projectId: row.projectId,
    name: row.name,
    enabled: row.enabled,
    trigger: row.trigger as AutomationTrigger,
    conditions: row.conditions as AutomationConditions,
    actions: row.actions as AutomationAction[],
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function listRules(
  tx: Executor,
  projectId: string,
  options: { enabledOnly?: boolean } = {},
): Promise<AutomationRule[]> {
  const rows = await tx
    .select()
    .from(automationRules)
    .where(
      and(
        eq(automationRules.projectId, projectId),
        options.enabledOnly ? eq(automationRules.enabled, true) : undefined,
      ),
    )
    .orderBy(asc(automationRules.createdAt), asc(automationRules.id));
  return rows.map(toRule);
}

export async function findRule(tx: Executor, projectId: string, ruleId: string): Promise<RuleRow> {
  if (!looksLikeId(ruleId)) throw new NotFoundError("rule_not_found", "automation rule not found");
  const [row] = await tx
    .select()
    .from(automationRules)
    .where(and(eq(automationRules.id, ruleId.toLowerCase()), eq(automationRules.projectId, projectId)))
    .limit(1);
  if (!row) throw new NotFoundError("rule_not_found", "automation rule not found");
  return row;
}
