import { randomUUID } from "node:crypto";
import {
  type ApplyWorkflowTemplateBody,
  type AutomationAction,
  type AutomationConditions,
  type AutomationTrigger,
  type CreateStatusBody,
  MAX_STATUSES,
  type ReorderStatusesBody,
  type UpdateStatusBody,
  type Workflow,
} from "@kiln/protocol";
import { and, count, eq, inArray, ne, or, sql } from "drizzle-orm";
import type { Database, Executor } from "../../db/client.ts";
import { pgErrorCode, UNIQUE_VIOLATION } from "../../db/errors.ts";
import {
  automationRules,
  tasks,
  workflowStatuses,
  workflows,
  workflowTransitions,
} from "../../db/schema-tenant.ts";
import { BadRequestError, ConflictError } from "../../errors/errors.ts";
import { requirePermission } from "../../orgs/roles.ts";
import type { OrgAccess } from "../../orgs/service.ts";
import type { ProjectService } from "../../projects/service.ts";
import { statusIdsIn } from "../automation/match.ts";
import { inProject } from "../tasks/in-project.ts";
import {
  ensureWorkflow,
  findStatus,
  installTemplate,
  listStatuses,
  loadWorkflow,
  lockBoard,
  requireStatuses,
} from "./store.ts";

/** A project's workflow: read it (made from the default template at first use), pick a template, edit it. */
export class WorkflowService {
  /** Where the project named in a request is looked up, and whose schema its queries run in. */
  readonly #scope: { database: Database; projects: ProjectService };

  constructor(deps: { database: Database; projects: ProjectService }) {
    this.#scope = { database: deps.database, projects: deps.projects };
  }

  async get(access: OrgAccess, projectRef: string): Promise<Workflow> {
    requirePermission(access.role, "tasks.read");
    return inProject(this.#scope, access, projectRef, (tx, projectId) => loadWorkflow(tx, projectId));
  }

  /**
   * Replaces the statuses with a template's. Only while the project has no tasks (they would lose their status);
   * rules that name the old statuses go with them, and the template's own rules come in.
   */
  async applyTemplate(
    access: OrgAccess,
    projectRef: string,
    body: ApplyWorkflowTemplateBody,
  ): Promise<Workflow> {
    requirePermission(access.role, "workflows.manage");
    return inProject(this.#scope, access, projectRef, async (tx, projectId) => {
      const [existing] = await tx.select().from(workflows).where(eq(workflows.projectId, projectId));
      // Picked before first use: made from that template (unless a first use just made the default).
      if (!existing && (await ensureWorkflow(tx, projectId, body.template)).template === body.template) {
        return loadWorkflow(tx, projectId);
      }
      await lockBoard(tx, projectId);
      const [held] = await tx.select({ n: count() }).from(tasks).where(eq(tasks.projectId, projectId));
      if (held!.n > 0) {
        throw new ConflictError("workflow_in_use", "the project has tasks; edit its workflow instead", {
          tasks: held!.n,
        });
      }
      const old = new Set((await listStatuses(tx, projectId)).map((s) => s.id));
      const stale = (await rulesOf(tx, projectId)).filter((r) => statusIdsIn(r).some((id) => old.has(id)));
      if (stale.length > 0) {
        await tx.delete(automationRules).where(
          inArray(
            automationRules.id,
            stale.map((r) => r.id),
          ),
        );
      }
      await tx.delete(workflowStatuses).where(eq(workflowStatuses.projectId, projectId));
      await installTemplate(tx, projectId, body.template);
      await tx
        .update(workflows)
        .set({ template: body.template, updatedAt: new Date() })
        .where(eq(workflows.projectId, projectId));
      return loadWorkflow(tx, projectId);
    });
  }

  async addStatus(access: OrgAccess, projectRef: string, body: CreateStatusBody): Promise<Workflow> {
    requirePermission(access.role, "workflows.manage");
    return this.#editing(access, projectRef, async (tx, projectId) => {
      const statuses = await listStatuses(tx, projectId);
      if (statuses.length >= MAX_STATUSES) {
        throw new ConflictError("conflict", `a workflow has at most ${MAX_STATUSES} statuses`);
      }
      const others = statuses.map((s) => s.id);
      const to = body.transitions ? await requireStatuses(tx, projectId, body.transitions) : others;
      const from = body.reachableFrom ? await requireStatuses(tx, projectId, body.reachableFrom) : others;
      const position = Math.min(body.position ?? statuses.length, statuses.length);
      const id = randomUUID();
      await tx
        .update(workflowStatuses)
        .set({ position: sql`${workflowStatuses.position} + 1` })
        .where(
          and(eq(workflowStatuses.projectId, projectId), sql`${workflowStatuses.position} >= ${position}`),
        );
      await tx.insert(workflowStatuses).values({
        id,
        projectId,
        name: body.name,
        group: body.group,
        color: body.color ?? "gray",
        position,
      });
      const edges = [
        ...to.map((t) => ({ fromStatusId: id, toStatusId: t })),
        ...from.map((f) => ({ fromStatusId: f, toStatusId: id })),
      ];
      if (edges.length > 0) await tx.insert(workflowTransitions).values(edges);
    });
  }

  async updateStatus(
    access: OrgAccess,
    projectRef: string,
    statusId: string,
    body: UpdateStatusBody,
  ): Promise<Workflow> {
    requirePermission(access.role, "workflows.manage");
    return this.#editing(access, projectRef, async (tx, projectId) => {
      const status = await findStatus(tx, projectId, statusId);
      if (body.name !== undefined || body.group !== undefined || body.color !== undefined) {
        await tx
          .update(workflowStatuses)
          .set({
            ...(body.name !== undefined ? { name: body.name } : {}),
            ...(body.group !== undefined ? { group: body.group } : {}),
            ...(body.color !== undefined ? { color: body.color } : {}),
          })
          .where(eq(workflowStatuses.id, status.id));
      }
      if (body.transitions !== undefined) {
        const to = (await requireStatuses(tx, projectId, body.transitions)).filter((t) => t !== status.id);
        await tx.delete(workflowTransitions).where(eq(workflowTransitions.fromStatusId, status.id));
        if (to.length > 0) {
          await tx
            .insert(workflowTransitions)
            .values(to.map((t) => ({ fromStatusId: status.id, toStatusId: t })));
        }
      }
    });
  }

  /** Refused while tasks hold the status or rules name it: they would be left pointing at nothing. */
  async deleteStatus(access: OrgAccess, projectRef: string, statusId: string): Promise<Workflow> {
    requirePermission(access.role, "workflows.manage");
    return this.#editing(access, projectRef, async (tx, projectId) => {
      const status = await findStatus(tx, projectId, statusId);
      const [held] = await tx.select({ n: count() }).from(tasks).where(eq(tasks.statusId, status.id));
      const ruleIds = (await rulesOf(tx, projectId))
        .filter((r) => statusIdsIn(r).includes(status.id))
        .map((r) => r.id);
      if (held!.n > 0 || ruleIds.length > 0) {
        const why = held!.n > 0 ? `${held!.n} task(s) are in it` : "automation rules name it";
        throw new ConflictError("status_in_use", `the status cannot be deleted: ${why}`, {
          tasks: held!.n,
          ruleIds,
        });
      }
      const [left] = await tx
        .select({ n: count() })
        .from(workflowStatuses)
        .where(and(eq(workflowStatuses.projectId, projectId), ne(workflowStatuses.id, status.id)));
      if (left!.n === 0) throw new ConflictError("status_in_use", "a workflow needs at least one status");
      await tx
        .delete(workflowTransitions)
        .where(
          or(eq(workflowTransitions.fromStatusId, status.id), eq(workflowTransitions.toStatusId, status.id)),
        );
      await tx.delete(workflowStatuses).where(eq(workflowStatuses.id, status.id));
      await renumber(
        tx,
        (await listStatuses(tx, projectId)).map((s) => s.id),
      );
    });
  }

  async reorder(access: OrgAccess, projectRef: string, body: ReorderStatusesBody): Promise<Workflow> {
    requirePermission(access.role, "workflows.manage");
    return this.#editing(access, projectRef, async (tx, projectId) => {
      const current = (await listStatuses(tx, projectId)).map((s) => s.id);
      const wanted = body.statusIds.map((id) => id.toLowerCase());
      const same =
        wanted.length === current.length &&
        new Set(wanted).size === wanted.length &&
        wanted.every((id) => current.includes(id));
      if (!same) {
        throw new BadRequestError(
          "validation_failed",
          "statusIds must list every status of the workflow once",
          {
            statusIds: current,
          },
        );
      }
      await renumber(tx, wanted);
    });
  }

  /** Runs an edit under the board lock and answers with the workflow as it is afterwards. */
  async #editing(
    access: OrgAccess,
    projectRef: string,
    edit: (tx: Executor, projectId: string) => Promise<void>,
  ): Promise<Workflow> {
    try {
      return await inProject(this.#scope, access, projectRef, async (tx, projectId) => {
        await lockBoard(tx, projectId);
        await edit(tx, projectId);
        await tx.update(workflows).set({ updatedAt: new Date() }).where(eq(workflows.projectId, projectId));
        return loadWorkflow(tx, projectId);
      });
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) {
        throw new ConflictError("status_name_taken", "the workflow already has a status with that name");
      }
      throw err;
    }
  }
}

async function rulesOf(
  tx: Executor,
  projectId: string,
): Promise<
  Array<{
    id: string;
    trigger: AutomationTrigger;
    conditions: AutomationConditions;
    actions: AutomationAction[];
  }>
> {
  const rows = await tx
    .select({
      id: automationRules.id,
      trigger: automationRules.trigger,
      conditions: automationRules.conditions,
      actions: automationRules.actions,
    })
    .from(automationRules)
    .where(eq(automationRules.projectId, projectId));
  return rows as Array<{
    id: string;
    trigger: AutomationTrigger;
    conditions: AutomationConditions;
    actions: AutomationAction[];
  }>;
}

async function renumber(tx: Executor, ids: string[]): Promise<void> {
  for (const [position, id] of ids.entries()) {
    await tx.update(workflowStatuses).set({ position }).where(eq(workflowStatuses.id, id));
  }
}
