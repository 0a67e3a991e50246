import { randomUUID } from "node:crypto";
import type {
  CreateCommentBody,
  CreateTaskBody,
  MoveTaskBody,
  Task,
  TaskActor,
  TaskAssignee,
  TaskComment,
  UpdateTaskBody,
} from "@kiln/protocol";
import { eq, sql } from "drizzle-orm";
import type { Database, Executor } from "../../db/client.ts";
import { taskComments, tasks, workflows } from "../../db/schema-tenant.ts";
import { BadRequestError, ConflictError } from "../../errors/errors.ts";
import type { OrgRow } from "../../orgs/service.ts";
import type { TaskEvent } from "../automation/match.ts";
import {
  isTransitionAllowed,
  listStatuses,
  lockBoard,
  requireStatus,
  transitionsOf,
} from "../workflows/store.ts";
import { type ActivityEntry, recordActivity } from "./activity.ts";
import { keyBetween } from "./position.ts";
import {
  actorColumns,
  agentIdOf,
  assigneeColumns,
  assigneeOf,
  checkAssignee,
  checkParent,
  columnEdge,
  findComment,
  findTask,
  neighbour,
  type TaskRow,
  toComment,
  toTask,
} from "./store.ts";

/**
 * Who is changing a project's tasks, and why. Routes make one for the signed-in member; automation makes one per
 * rule run (actor `automation`, depth n); the job queue makes one for an agent's job.
 */
export interface BoardContext {
  org: OrgRow;
  projectId: string;
  actor: TaskActor;
  /** 0 for a person's or an agent's change; n for a change made by a rule that ran at depth n. */
  depth: number;
  /** The person on whose behalf jobs started along the way run; null when none. */
  requestedBy: string | null;
  /**
   * Shared by every rule run one change sets off, to bound fan-out as well as depth, and to start one job of
   * a kind per task however many rules ask (`jobs`: "taskId kind").
   */
  chain?: { runs: number; jobs: Set<string> };
}

export type TaskEventListener = (ctx: BoardContext, events: TaskEvent[]) => Promise<void>;

/**
 * Task changes under a BoardContext, with no permission checks (TaskService makes those for people). Each runs in
 * one transaction and records its activity there; the events it caused go to the listeners (automation) after
 * the commit, and the task is answered as it is once they are done.
 */
export class TaskCommands {
  readonly #database: Database;
  readonly #listeners: TaskEventListener[] = [];

  constructor(deps: { database: Database }) {
    this.#database = deps.database;
  }

  onEvents(listener: TaskEventListener): void {
    this.#listeners.push(listener);
  }

  async create(ctx: BoardContext, body: CreateTaskBody): Promise<Task> {
    const row = await this.#tx(ctx, async (tx) => {
      const board = await lockBoard(tx, ctx.projectId);
      await tx
        .update(workflows)
        .set({ nextTaskNumber: sql`${workflows.nextTaskNumber} + 1` })
        .where(eq(workflows.projectId, ctx.projectId));
      const status = body.statusId
        ? await requireStatus(tx, ctx.projectId, body.statusId)
        : (await listStatuses(tx, ctx.projectId))[0]!;
      const assignee = body.assignee ?? null;
      await checkAssignee(tx, ctx.org.id, assignee);
      const parentId = body.parentId ? await checkParent(tx, ctx.projectId, null, body.parentId) : null;
      const [created] = await tx
        .insert(tasks)
        .values({
          id: randomUUID(),
          projectId: ctx.projectId,
          number: board.nextTaskNumber,
          title: body.title,
          description: body.description ?? "",
          statusId: status.id,
          priority: body.priority ?? "none",
          ...assigneeColumns(assignee),
          labels: distinct(body.labels ?? []),
          parentId,
          position: keyBetween(await columnEdge(tx, status.id, "last", null), null),
          createdBy: ctx.actor.type === "member" ? ctx.actor.userId : null,
        })
        .returning();
      await recordActivity(tx, created!.id, ctx.actor, [
        { kind: "created", to: { number: created!.number, status: { id: status.id, name: status.name } } },
      ]);
      return created!;
    });
    // Created with an assignee is assigned as well: rules on either see it.
    const events: TaskEvent[] = [{ type: "task_created", taskId: row.id }];
    if (row.assigneeType) events.push({ type: "task_assigned", taskId: row.id });
    return this.#after(ctx, row, events);
  }

  async update(ctx: BoardContext, taskId: string, body: UpdateTaskBody): Promise<Task> {
    let assigned = false;
    const row = await this.#tx(ctx, async (tx) => {
      // Parent changes are serialised per board, so two of them cannot close a loop together.
      if (body.parentId !== undefined) await lockBoard(tx, ctx.projectId);
      const task = await findTask(tx, ctx.projectId, taskId, { lock: true });
      const changes: Partial<TaskRow> = {};
      const log: ActivityEntry[] = [];
      if (body.title !== undefined && body.title !== task.title) {
        changes.title = body.title;
        log.push({ kind: "title_changed", from: task.title, to: body.title });
      }
      if (body.description !== undefined && body.description !== task.description) {
        changes.description = body.description;
        // Descriptions can be long; the log says that it changed, the task holds the text.
        log.push({ kind: "description_changed" });
      }
      if (body.priority !== undefined && body.priority !== task.priority) {
        changes.priority = body.priority;
        log.push({ kind: "priority_changed", from: task.priority, to: body.priority });
      }
      if (body.assignee !== undefined && !sameAssignee(assigneeOf(task), body.assignee)) {
        await checkAssignee(tx, ctx.org.id, body.assignee);
        Object.assign(changes, assigneeColumns(body.assignee));
        log.push({ kind: "assignee_changed", from: assigneeOf(task), to: body.assignee });
        assigned = body.assignee !== null;
      }
      if (body.labels !== undefined) {
        const labels = distinct(body.labels);
        if (labels.join("\n") !== task.labels.join("\n")) {
          changes.labels = labels;
          log.push({ kind: "labels_changed", from: task.labels, to: labels });
        }
      }
      if (body.parentId !== undefined && (body.parentId?.toLowerCase() ?? null) !== task.parentId) {
        changes.parentId = body.parentId
          ? await checkParent(tx, ctx.projectId, task.id, body.parentId)
          : null;
        log.push({ kind: "parent_changed", from: task.parentId, to: changes.parentId });
      }
      if (log.length === 0) return task;
      const [updated] = await tx
        .update(tasks)
        .set({ ...changes, updatedAt: new Date() })
        .where(eq(tasks.id, task.id))
        .returning();
      await recordActivity(tx, task.id, ctx.actor, log);
      return updated!;
    });
    return this.#after(ctx, row, assigned ? [{ type: "task_assigned", taskId: row.id }] : []);
  }

  /** Moves a task to a status (if the workflow allows it) and a place in that column. */
  async move(ctx: BoardContext, taskId: string, body: MoveTaskBody): Promise<Task> {
    let moved: TaskEvent | undefined;
    const row = await this.#tx(ctx, async (tx) => {
      await lockBoard(tx, ctx.projectId);
      const task = await findTask(tx, ctx.projectId, taskId, { lock: true });
      const target = await requireStatus(tx, ctx.projectId, body.statusId);
      if (!(await isTransitionAllowed(tx, task.statusId, target.id))) {
        throw await transitionRefused(tx, ctx.projectId, task.statusId, target.id);
      }
      const position = await this.#placeIn(tx, ctx.projectId, task, target.id, body);
      if (target.id === task.statusId && position === task.position) return task;
      const [updated] = await tx
        .update(tasks)
        .set({ statusId: target.id, position, updatedAt: new Date() })
        .where(eq(tasks.id, task.id))
        .returning();
      if (target.id !== task.statusId) {
        const statuses = await listStatuses(tx, ctx.projectId);
        const from = statuses.find((s) => s.id === task.statusId);
        await recordActivity(tx, task.id, ctx.actor, [
          {
            kind: "moved",
            from: { id: task.statusId, name: from?.name ?? null },
            to: { id: target.id, name: target.name },
          },
        ]);
        moved = { type: "task_moved", taskId: task.id, fromStatus: task.statusId, toStatus: target.id };
      } else if (position !== task.position) {
        await recordActivity(tx, task.id, ctx.actor, [{ kind: "reordered" }]);
      }
      return updated!;
    });
    return this.#after(ctx, row, moved ? [moved] : []);
  }

  async delete(ctx: BoardContext, taskId: string): Promise<void> {
    await this.#tx(ctx, async (tx) => {
      await lockBoard(tx, ctx.projectId);
      const task = await findTask(tx, ctx.projectId, taskId, { lock: true });
      const children = await tx.select({ id: tasks.id }).from(tasks).where(eq(tasks.parentId, task.id));
      // Subtasks stay; the foreign key unlinks them, and their logs say why.
      for (const child of children) {
        await recordActivity(tx, child.id, ctx.actor, [
          { kind: "parent_changed", from: task.id, to: null, message: `parent #${task.number} was deleted` },
        ]);
      }
      await tx.delete(tasks).where(eq(tasks.id, task.id));
    });
  }

  async comment(ctx: BoardContext, taskId: string, body: CreateCommentBody): Promise<TaskComment> {
    const comment = await this.#tx(ctx, async (tx) => {
      const task = await findTask(tx, ctx.projectId, taskId);
      const author = authorColumns(ctx.actor);
      const [row] = await tx
        .insert(taskComments)
        .values({ id: randomUUID(), taskId: task.id, ...author, body: body.body })
        .returning();
      await recordActivity(tx, task.id, ctx.actor, [{ kind: "commented", to: { commentId: row!.id } }]);
      return row!;
    });
    await this.#emit(ctx, [{ type: "task_commented", taskId: comment.taskId, commentId: comment.id }]);
    return toComment(comment);
  }

  /** Edits a comment; `mayEdit` decides on the stored comment (its author) before anything changes. */
  async editComment(
    ctx: BoardContext,
    taskId: string,
    commentId: string,
    body: CreateCommentBody,
    mayEdit: (comment: TaskComment) => void,
  ): Promise<TaskComment> {
    return this.#tx(ctx, async (tx) => {
      const task = await findTask(tx, ctx.projectId, taskId);
      const current = await findComment(tx, task.id, commentId);
      mayEdit(toComment(current));
      const [row] = await tx
        .update(taskComments)
        .set({ body: body.body, editedAt: new Date() })
        .where(eq(taskComments.id, current.id))
        .returning();
      await recordActivity(tx, task.id, ctx.actor, [
        { kind: "comment_edited", to: { commentId: current.id } },
      ]);
      return toComment(row!);
    });
  }

  async deleteComment(
    ctx: BoardContext,
    taskId: string,
    commentId: string,
    mayDelete: (comment: TaskComment) => void,
  ): Promise<void> {
    await this.#tx(ctx, async (tx) => {
      const task = await findTask(tx, ctx.projectId, taskId);
      const current = await findComment(tx, task.id, commentId);
      mayDelete(toComment(current));
      await tx.delete(taskComments).where(eq(taskComments.id, current.id));
      await recordActivity(tx, task.id, ctx.actor, [
        { kind: "comment_deleted", from: { commentId: current.id } },
      ]);
    });
  }

  /** An activity entry that is not a change to the task itself (a job started, a rule refused). */
  async note(ctx: BoardContext, taskId: string, entry: ActivityEntry): Promise<void> {
    await this.#tx(ctx, async (tx) => {
      const task = await findTask(tx, ctx.projectId, taskId);
      await recordActivity(tx, task.id, ctx.actor, [entry]);
    });
  }

  async get(ctx: Pick<BoardContext, "org" | "projectId">, taskId: string): Promise<Task> {
    return toTask(await this.#tx(ctx, (tx) => findTask(tx, ctx.projectId, taskId)));
  }

  /** The new position: between the anchors the client named, or at the bottom of the column. */
  async #placeIn(
    tx: Executor,
    projectId: string,
    task: TaskRow,
    statusId: string,
    body: MoveTaskBody,
  ): Promise<string> {
    const anchor = async (id: string) => {
      if (id.toLowerCase() === task.id) throw anchorInvalid("a task cannot be placed next to itself");
      const row = await findTask(tx, projectId, id).catch(() => null);
      if (!row || row.statusId !== statusId)
        throw anchorInvalid("the anchor task is not in the target status");
      return row.position;
    };
    const after = body.afterId ? await anchor(body.afterId) : null;
    const before = body.beforeId ? await anchor(body.beforeId) : null;
    let low: string | null;
    let high: string | null;
    if (after !== null && before !== null) {
      if (after >= before) throw anchorInvalid("afterId must come before beforeId in the column");
      [low, high] = [after, before];
    } else if (after !== null) {
      [low, high] = [after, await neighbour(tx, statusId, after, "after", task.id)];
    } else if (before !== null) {
      [low, high] = [await neighbour(tx, statusId, before, "before", task.id), before];
    } else if (body.afterId === null) {
      [low, high] = [null, await columnEdge(tx, statusId, "first", task.id)];
    } else {
      if (task.statusId === statusId) return task.position;
      [low, high] = [await columnEdge(tx, statusId, "last", task.id), null];
    }
    // Already there: a drop where the task already is changes nothing.
    if (
      task.statusId === statusId &&
      (low === null || low < task.position) &&
      (high === null || task.position < high)
    )
      return task.position;
    return keyBetween(low, high);
  }

  #tx<T>(ctx: Pick<BoardContext, "org">, fn: (tx: Executor) => Promise<T>): Promise<T> {
    return this.#database.tenant(ctx.org.schemaName, fn);
  }

  async #emit(ctx: BoardContext, events: TaskEvent[]): Promise<void> {
    if (events.length === 0) return;
    for (const listener of this.#listeners) await listener(ctx, events);
  }

  async #after(ctx: BoardContext, row: TaskRow, events: TaskEvent[]): Promise<Task> {
    if (events.length === 0 || this.#listeners.length === 0) return toTask(row);
    await this.#emit(ctx, events);
    // Rules may have changed the task (moved, assigned it): answer with what it is now.
    return this.get(ctx, row.id).catch(() => toTask(row));
  }
}

function distinct(labels: string[]): string[] {
  return [...new Set(labels.map((l) => l.trim()))];
}

function sameAssignee(a: TaskAssignee | null, b: TaskAssignee | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.type !== b.type) return false;
  if (a.type === "agent") return b.type === "agent" && agentIdOf(a) === agentIdOf(b);
  return b.type === "member" && a.userId === b.userId.toLowerCase();
}

function authorColumns(actor: TaskActor) {
  const who = actorColumns(actor);
  return { authorType: who.type, authorUserId: who.userId, authorRef: who.ref };
}

function anchorInvalid(message: string): BadRequestError {
  return new BadRequestError("task_anchor_invalid", message);
}

async function transitionRefused(
  tx: Executor,
  projectId: string,
  from: string,
  to: string,
): Promise<ConflictError> {
  const statuses = await listStatuses(tx, projectId);
  const name = (id: string) => statuses.find((s) => s.id === id)?.name ?? null;
  const allowed = ((await transitionsOf(tx, [from])).get(from) ?? []).map((id) => ({ id, name: name(id) }));
  return new ConflictError(
    "transition_not_allowed",
    `the workflow does not allow moving a task from "${name(from)}" to "${name(to)}"`,
    { from: { id: from, name: name(from) }, to: { id: to, name: name(to) }, allowed },
  );
}
