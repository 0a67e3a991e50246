import type {
  CreateCommentBody,
  CreateTaskBody,
  MoveTaskBody,
  Task,
  TaskActivity,
  TaskComment,
  TaskListQuery,
  UpdateCommentBody,
  UpdateTaskBody,
} from "@kiln/protocol";
import { asc, eq } from "drizzle-orm";
import type { Database } from "../../db/client.ts";
import { taskComments } from "../../db/schema-tenant.ts";
import { ForbiddenError } from "../../errors/errors.ts";
import { requirePermission } from "../../orgs/roles.ts";
import type { OrgAccess } from "../../orgs/service.ts";
import type { ProjectService } from "../../projects/service.ts";
import { ensureWorkflow } from "../workflows/store.ts";
import { listActivity } from "./activity.ts";
import type { BoardContext, TaskCommands } from "./commands.ts";
import { findTask, listTasks, toComment, toTask } from "./store.ts";

/** Tasks as people reach them: permission checks, then the commands under the member's BoardContext. */
export class TaskService {
  readonly #database: Database;
  readonly #projects: ProjectService;
  /** Task changes without permission checks, for automation and the job queue (agents). */
  readonly commands: TaskCommands;

  constructor(deps: { database: Database; projects: ProjectService; commands: TaskCommands }) {
    this.#database = deps.database;
    this.#projects = deps.projects;
    this.commands = deps.commands;
  }

  async list(access: OrgAccess, projectRef: string, query: TaskListQuery): Promise<Task[]> {
    requirePermission(access.role, "tasks.read");
    const ctx = await this.#context(access, projectRef);
    const rows = await this.#database.tenant(access.org.schemaName, async (tx) => {
      await ensureWorkflow(tx, ctx.projectId);
      return listTasks(tx, ctx.projectId, query, access.userId);
    });
    return rows.map(toTask);
  }

  async get(access: OrgAccess, projectRef: string, taskId: string): Promise<Task> {
    requirePermission(access.role, "tasks.read");
    const ctx = await this.#context(access, projectRef);
    return this.commands.get(ctx, taskId);
  }

  async create(access: OrgAccess, projectRef: string, body: CreateTaskBody): Promise<Task> {
    requirePermission(access.role, "tasks.write");
    return this.commands.create(await this.#context(access, projectRef), body);
  }

  async update(access: OrgAccess, projectRef: string, taskId: string, body: UpdateTaskBody): Promise<Task> {
    requirePermission(access.role, "tasks.write");
    return this.commands.update(await this.#context(access, projectRef), taskId, body);
  }

  async move(access: OrgAccess, projectRef: string, taskId: string, body: MoveTaskBody): Promise<Task> {
    requirePermission(access.role, "tasks.write");
    return this.commands.move(await this.#context(access, projectRef), taskId, body);
  }

  async delete(access: OrgAccess, projectRef: string, taskId: string): Promise<void> {
    requirePermission(access.role, "tasks.write");
    await this.commands.delete(await this.#context(access, projectRef), taskId);
  }

  async comments(access: OrgAccess, projectRef: string, taskId: string): Promise<TaskComment[]> {
    requirePermission(access.role, "tasks.read");
    const ctx = await this.#context(access, projectRef);
    const rows = await this.#database.tenant(access.org.schemaName, async (tx) => {
      const task = await findTask(tx, ctx.projectId, taskId);
      return tx
        .select()
        .from(taskComments)
        .where(eq(taskComments.taskId, task.id))
        .orderBy(asc(taskComments.createdAt), asc(taskComments.id));
    });
    return rows.map(toComment);
  }

  async comment(
    access: OrgAccess,
    projectRef: string,
    taskId: string,
    body: CreateCommentBody,
  ): Promise<TaskComment> {
    requirePermission(access.role, "tasks.comment");
    return this.commands.comment(await this.#context(access, projectRef), taskId, body);
  }

  /** Only the author edits a comment: words put in someone else's mouth would be a forgery. */
  async editComment(
    access: OrgAccess,
    projectRef: string,
    taskId: string,
    commentId: string,
    body: UpdateCommentBody,
  ): Promise<TaskComment> {
    requirePermission(access.role, "tasks.comment");
    const ctx = await this.#context(access, projectRef);
    return this.commands.editComment(ctx, taskId, commentId, body, (comment) => {
      if (!isAuthor(comment, access.userId)) {
        throw new ForbiddenError("forbidden", "only its author can edit a comment");
      }
    });
  }

  /** The author, or a moderator (tasks.moderate), deletes a comment. */
  async deleteComment(
    access: OrgAccess,
    projectRef: string,
    taskId: string,
    commentId: string,
  ): Promise<void> {
    requirePermission(access.role, "tasks.comment");
    const ctx = await this.#context(access, projectRef);
    await this.commands.deleteComment(ctx, taskId, commentId, (comment) => {
      if (!isAuthor(comment, access.userId)) requirePermission(access.role, "tasks.moderate");
    });
  }

  async activity(
    access: OrgAccess,
    projectRef: string,
    taskId: string,
    page: { after?: number | undefined; limit: number },
  ): Promise<TaskActivity[]> {
    requirePermission(access.role, "tasks.read");
    const ctx = await this.#context(access, projectRef);
    return this.#database.tenant(access.org.schemaName, async (tx) => {
      const task = await findTask(tx, ctx.projectId, taskId);
      return listActivity(tx, task.id, page.after ?? 0, page.limit);
    });
  }

  async #context(access: OrgAccess, projectRef: string): Promise<BoardContext> {
    const project = await this.#projects.get(access, projectRef);
    return {
      org: access.org,
      projectId: project.id,
      actor: { type: "member", userId: access.userId },
      depth: 0,
      requestedBy: access.userId,
    };
  }
}

function isAuthor(comment: TaskComment, userId: string): boolean {
  return comment.author.type === "member" && comment.author.userId === userId;
}
