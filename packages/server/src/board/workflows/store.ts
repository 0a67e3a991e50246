import { randomUUID } from "node:crypto";
import {
  type AutomationTrigger,
  DEFAULT_WORKFLOW_TEMPLATE,
  type Workflow,
  type WorkflowStatus,
  type WorkflowTemplateName,
} from "@kiln/protocol";
import { and, asc, eq, inArray } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import { automationRules, workflowStatuses, workflows, workflowTransitions } from "../../db/schema-tenant.ts";
import { KilnError, NotFoundError } from "../../errors/errors.ts";
import { looksLikeId } from "../../orgs/slug.ts";
import { TEMPLATES } from "./templates.ts";

/** Queries on a project's workflow. Every function runs inside `database.tenant`. */

export type StatusRow = typeof workflowStatuses.$inferSelect;
export type WorkflowRow = typeof workflows.$inferSelect;

/** The project's workflow row, made from the default template the first time anything needs it. */
export async function ensureWorkflow(
  tx: Executor,
  projectId: string,
  template: WorkflowTemplateName = DEFAULT_WORKFLOW_TEMPLATE,
): Promise<WorkflowRow> {
  // Two first uses at once: the second insert waits for the first to commit, then does nothing.
  const [created] = await tx
    .insert(workflows)
    .values({ projectId, template })
    .onConflictDoNothing()
    .returning();
  if (created) {
    await installTemplate(tx, projectId, template);
    return created;
  }
  const [row] = await tx.select().from(workflows).where(eq(workflows.projectId, projectId));
  return row!;
}

/** Locks the project's board: task numbers, positions, parent links and statuses change one at a time. */
export async function lockBoard(tx: Executor, projectId: string): Promise<WorkflowRow> {
  await ensureWorkflow(tx, projectId);
  const [row] = await tx.select().from(workflows).where(eq(workflows.projectId, projectId)).for("update");
  return row!;
}

/** Statuses, transitions and default rules of a template, for a project that has none of them. */
export async function installTemplate(
  tx: Executor,
  projectId: string,
  name: WorkflowTemplateName,
): Promise<void> {
  const template = TEMPLATES[name];
  const ids = new Map(template.statuses.map((s) => [s.key, randomUUID()]));
  await tx.insert(workflowStatuses).values(
    template.statuses.map((s, position) => ({
      id: ids.get(s.key)!,
      projectId,
      name: s.name,
      group: s.group,
      color: s.color,
      position,
    })),
  );
  const transitions = template.statuses.flatMap((s) =>
    s.to.map((to) => ({ fromStatusId: ids.get(s.key)!, toStatusId: ids.get(to)! })),
  );
  if (transitions.length > 0) await tx.insert(workflowTransitions).values(transitions);
  const now = Date.now();
  for (const [i, rule] of template.rules.entries()) {
    const trigger: AutomationTrigger =
      rule.on === "assigned"
        ? { type: "task_assigned" }
        : { type: "task_moved", toStatus: ids.get(rule.on.movedTo)! };
    const { statusIn, ...conditions } = rule.conditions;
    await tx.insert(automationRules).values({
      id: randomUUID(),
      projectId,
      name: rule.name,
      trigger,
      conditions: statusIn ? { ...conditions, statusIn: statusIn.map((key) => ids.get(key)!) } : conditions,
      actions: rule.actions.map((a) => (a.type === "move" ? { ...a, statusId: ids.get(a.statusId)! } : a)),
      // Distinct times keep the rules in the template's order.
      createdAt: new Date(now + i),
      updatedAt: new Date(now + i),
    });
  }
}

export async function listStatuses(tx: Executor, projectId: string): Promise<StatusRow[]> {
  return tx
    .select()
    .from(workflowStatuses)
    .where(eq(workflowStatuses.projectId, projectId))
    .orderBy(asc(workflowStatuses.position), asc(workflowStatuses.createdAt));
}

/** Outgoing transitions per status id. */
export async function transitionsOf(tx: Executor, statusIds: string[]): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>(statusIds.map((id) => [id, []]));
  if (statusIds.length === 0) return map;
  const rows = await tx
    .select()
    .from(workflowTransitions)
    .where(inArray(workflowTransitions.fromStatusId, statusIds));
  for (const r of rows) map.get(r.fromStatusId)?.push(r.toStatusId);
  return map;
}

export async function loadWorkflow(tx: Executor, projectId: string): Promise<Workflow> {
  const row = await ensureWorkflow(tx, projectId);
  const statuses = await listStatuses(tx, projectId);
  const transitions = await transitionsOf(
    tx,
    statuses.map((s) => s.id),
  );
  const order = new Map(statuses.map((s, i) => [s.id, i]));
  return {
    projectId,
    template: row.template as WorkflowTemplateName,
    statuses: statuses.map(
      (s, i): WorkflowStatus => ({
        id: s.id,
        name: s.name,
        group: s.group as WorkflowStatus["group"],
        color: s.color as WorkflowStatus["color"],
        position: i,
        transitions: (transitions.get(s.id) ?? []).sort((a, b) => order.get(a)! - order.get(b)!),
      }),
    ),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** A status named in the URL: 404 when it is not this project's. */
export async function findStatus(tx: Executor, projectId: string, statusId: string): Promise<StatusRow> {
  const row = looksLikeId(statusId) ? await statusRow(tx, projectId, statusId) : undefined;
  if (!row) throw new NotFoundError("status_not_found", "status not found");
  return row;
}

/** A status named in a request body: 400, the request refers to something that is not there. */
export async function requireStatus(tx: Executor, projectId: string, statusId: string): Promise<StatusRow> {
  const row = await statusRow(tx, projectId, statusId);
  if (!row) {
    throw new KilnError("status_not_found", "no such status in this project's workflow", {
      status: 400,
      details: { statusId },
    });
  }
  return row;
}

/** Every id must be a status of the project; returns them deduplicated. */
export async function requireStatuses(tx: Executor, projectId: string, ids: string[]): Promise<string[]> {
  const wanted = [...new Set(ids.map((id) => id.toLowerCase()))];
  if (wanted.length === 0) return [];
  const found = await tx
    .select({ id: workflowStatuses.id })
    .from(workflowStatuses)
    .where(and(eq(workflowStatuses.projectId, projectId), inArray(workflowStatuses.id, wanted)));
  const known = new Set(found.map((r) => r.id));
  const missing = wanted.filter((id) => !known.has(id));
  if (missing.length > 0) {
    throw new KilnError("status_not_found", "no such status in this project's workflow", {
      status: 400,
      details: { statusIds: missing },
    });
  }
  return wanted;
}

async function statusRow(tx: Executor, projectId: string, statusId: string): Promise<StatusRow | undefined> {
  const [row] = await tx
    .select()
    .from(workflowStatuses)
    .where(and(eq(workflowStatuses.id, statusId.toLowerCase()), eq(workflowStatuses.projectId, projectId)))
    .limit(1);
  return row;
}

export async function isTransitionAllowed(tx: Executor, from: string, to: string): Promise<boolean> {
  if (from === to) return true;
  const [row] = await tx
    .select({ to: workflowTransitions.toStatusId })
    .from(workflowTransitions)
    .where(and(eq(workflowTransitions.fromStatusId, from), eq(workflowTransitions.toStatusId, to)))
    .limit(1);
  return row !== undefined;
}
