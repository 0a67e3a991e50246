import {
  BUILTIN_AGENT_ID,
  type Task,
  type TaskActor,
  type TaskAssignee,
  type TaskComment,
  type TaskListQuery,
  type TaskPriority,
} from "@kiln/protocol";
import { and, asc, eq, gt, ilike, isNull, lt, ne, or, type SQL, sql } from "drizzle-orm";
import { pickAgent } from "../../agents/service.ts";
import { type Executor, query } from "../../db/client.ts";
import { memberships } from "../../db/schema-shared.ts";
import { taskComments, tasks, workflowStatuses } from "../../db/schema-tenant.ts";
import { BadRequestError, NotFoundError } from "../../errors/errors.ts";
import { looksLikeId } from "../../orgs/slug.ts";

/** Row ↔ wire mapping and the queries tasks need. Every function runs inside `database.tenant`. */

export type TaskRow = typeof tasks.$inferSelect;
export type CommentRow = typeof taskComments.$inferSelect;

export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    projectId: row.projectId,
    number: row.number,
    title: row.title,
    description: row.description,
    statusId: row.statusId,
    priority: row.priority as TaskPriority,
    assignee: assigneeOf(row),
    labels: row.labels,
    parentId: row.parentId,
    position: row.position,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export function assigneeOf(
  row: Pick<TaskRow, "assigneeType" | "assigneeUserId" | "assigneeAgentId">,
): TaskAssignee | null {
  if (row.assigneeType === "agent")
    return row.assigneeAgentId ? { type: "agent", agentId: row.assigneeAgentId } : { type: "agent" };
  if (row.assigneeType === "member" && row.assigneeUserId)
    return { type: "member", userId: row.assigneeUserId };
  return null;
}

export function assigneeColumns(assignee: TaskAssignee | null) {
  return {
    assigneeType: assignee?.type ?? null,
    assigneeUserId: assignee?.type === "member" ? assignee.userId.toLowerCase() : null,
    assigneeAgentId: assignee?.type === "agent" ? (agentIdOf(assignee) ?? null) : null,
  };
}

/** An agent assignee's agent as stored: lower case, and absent for the built-in agent. */
export function agentIdOf(assignee: { agentId?: string | undefined }): string | undefined {
  const id = assignee.agentId?.toLowerCase();
  return id === BUILTIN_AGENT_ID ? undefined : id;
}

/** Actors are stored as a type, a user id (members), and a reference (a job id, a rule id). */
export function actorColumns(actor: TaskActor) {
  switch (actor.type) {
    case "member":
      return { type: "member", userId: actor.userId, ref: null, depth: 0 };
    case "agent":
      return { type: "agent", userId: null, ref: actor.jobId, depth: 0 };
    case "automation":
      return { type: "automation", userId: null, ref: actor.ruleId, depth: actor.depth };
    case "system":
      return { type: "system", userId: null, ref: null, depth: 0 };
  }
}

export function actorOf(type: string, userId: string | null, ref: string | null, depth: number): TaskActor {
  if (type === "member" && userId) return { type: "member", userId };
  if (type === "agent") return { type: "agent", jobId: ref };
  if (type === "automation" && ref) return { type: "automation", ruleId: ref, depth };
  return { type: "system" };
}

export function toComment(row: CommentRow): TaskComment {
  return {
    id: row.id,
    taskId: row.taskId,
    author: actorOf(row.authorType, row.authorUserId, row.authorRef, 0),
    body: row.body,
    createdAt: row.createdAt.toISOString(),
    editedAt: row.editedAt?.toISOString() ?? null,
  };
}

export async function findTask(
  tx: Executor,
  projectId: string,
  taskId: string,
  options: { lock?: boolean } = {},
): Promise<TaskRow> {
  if (!looksLikeId(taskId)) throw new NotFoundError("task_not_found", "task not found");
  const select = tx
    .select()
    .from(tasks)
    .where(and(eq(tasks.id, taskId.toLowerCase()), eq(tasks.projectId, projectId)))
    .limit(1);
  const [row] = options.lock ? await select.for("update") : await select;
  if (!row) throw new NotFoundError("task_not_found", "task not found");
  return row;
}

export async function findComment(tx: Executor, taskId: string, commentId: string): Promise<CommentRow> {
  if (!looksLikeId(commentId)) throw new NotFoundError("comment_not_found", "comment not found");
  const [row] = await tx
    .select()
    .from(taskComments)
    .where(and(eq(taskComments.id, commentId.toLowerCase()), eq(taskComments.taskId, taskId)))
    .limit(1);
  if (!row) throw new NotFoundError("comment_not_found", "comment not found");
  return row;
}

export async function listTasks(
  tx: Executor,
  projectId: string,
  filter: TaskListQuery,
  userId: string,
): Promise<TaskRow[]> {
  const where: Array<SQL | undefined> = [eq(tasks.projectId, projectId)];
  if (filter.status) where.push(eq(tasks.statusId, filter.status.toLowerCase()));
  if (filter.parentId) where.push(eq(tasks.parentId, filter.parentId.toLowerCase()));
  if (filter.assignee === "agent") where.push(eq(tasks.assigneeType, "agent"));
  else if (filter.assignee === "none") where.push(isNull(tasks.assigneeType));
  else if (filter.assignee) {
    const who = filter.assignee === "me" ? userId : filter.assignee.toLowerCase();
    where.push(and(eq(tasks.assigneeType, "member"), eq(tasks.assigneeUserId, who)));
  }
  if (filter.label) where.push(sql`${tasks.labels} @> ${JSON.stringify([filter.label])}::jsonb`);
  const text = filter.q?.trim();
  if (text) {
    const pattern = `%${text.replace(/[\\%_]/g, "\\$&")}%`;
    const number = /^#?(\d{1,9})$/.exec(text);
    where.push(
      or(
        ilike(tasks.title, pattern),
        ilike(tasks.description, pattern),
        number ? eq(tasks.number, Number(number[1])) : undefined,
      ),
    );
  }
  const rows = await tx
    .select({ task: tasks })
    .from(tasks)
    .innerJoin(workflowStatuses, eq(workflowStatuses.id, tasks.statusId))
    .where(and(...where))
    .orderBy(asc(workflowStatuses.position), asc(tasks.position), asc(tasks.number))
    .limit(filter.limit);
  return rows.map((r) => r.task);
}

/** The first or last position in a status column, leaving out one task (the one being moved). */
export async function columnEdge(
  tx: Executor,
  statusId: string,
  edge: "first" | "last",
  exclude: string | null,
): Promise<string | null> {
  const [row] = await tx
    .select({ position: tasks.position })
    .from(tasks)
    .where(and(eq(tasks.statusId, statusId), exclude ? ne(tasks.id, exclude) : undefined))
    .orderBy(edge === "first" ? asc(tasks.position) : sql`${tasks.position} DESC`)
    .limit(1);
  return row?.position ?? null;
}

/** The position right after (or before) `position` in a column, leaving out the task being moved. */
export async function neighbour(
  tx: Executor,
  statusId: string,
  position: string,
  side: "after" | "before",
  exclude: string,
): Promise<string | null> {
  const [row] = await tx
    .select({ position: tasks.position })
    .from(tasks)
    .where(
      and(
        eq(tasks.statusId, statusId),
        ne(tasks.id, exclude),
        side === "after" ? gt(tasks.position, position) : lt(tasks.position, position),
      ),
    )
    .orderBy(side === "after" ? asc(tasks.position) : sql`${tasks.position} DESC`)
    .limit(1);
  return row?.position ?? null;
}

/**
 * A member assignee must belong to the org (memberships live in the shared schema); an agent assignee's agent
 * must be one of the org's, not archived (404 `agent_not_found`). `tx` runs in the org's schema.
 */
export async function checkAssignee(
  tx: Executor,
  orgId: string,
  assignee: TaskAssignee | null,
): Promise<void> {
  if (assignee?.type === "agent") {
    await pickAgent(tx, agentIdOf(assignee));
    return;
  }
  if (assignee?.type !== "member") return;
  const [row] = await tx
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, assignee.userId.toLowerCase())))
    .limit(1);
  if (!row) {
    throw new BadRequestError("assignee_not_member", "the assignee is not a member of this org", {
      userId: assignee.userId,
    });
  }
}

/**
 * A parent must be another task of the same project, and not the task itself or one of its descendants:
 * parent links form a forest, never a cycle.
 */
export async function checkParent(
  tx: Executor,
  projectId: string,
  taskId: string | null,
  parentId: string,
): Promise<string> {
  const id = parentId.toLowerCase();
  const invalid = (why: string) => new BadRequestError("task_parent_invalid", why, { parentId });
  const [parent] = await tx
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.id, id), eq(tasks.projectId, projectId)))
    .limit(1);
  if (!parent) throw invalid("the parent task is not in this project");
  if (taskId === null) return id;
  if (id === taskId) throw invalid("a task cannot be its own parent");
  // Walk up from the new parent; meeting the task means the link would close a loop.
  const loop = await query(
    tx,
    sql`
    WITH RECURSIVE up(id, parent_id, depth) AS (
      SELECT id, parent_id, 1 FROM tasks WHERE id = ${id}
      UNION ALL
      SELECT t.id, t.parent_id, up.depth + 1 FROM tasks t JOIN up ON t.id = up.parent_id WHERE up.depth < 10000
    )
    SELECT 1 FROM up WHERE id = ${taskId} LIMIT 1`,
  );
  if (loop.length > 0) {
    throw invalid("the parent is a subtask of this task; parent links cannot form a loop");
  }
  return id;
}
