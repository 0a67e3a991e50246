import {
  CreateCommentBody,
  CreateTaskBody,
  ErrorEnvelope,
  Id,
  IdOrSlug,
  MoveTaskBody,
  Task,
  TaskActivity,
  TaskActivityQuery,
  TaskComment,
  TaskListQuery,
  UpdateCommentBody,
  UpdateTaskBody,
} from "@kiln/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../../http/principal.ts";
import type { OrgService } from "../../orgs/service.ts";
import type { TaskService } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["tasks"];
const ProjectParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug });
const TaskParams = ProjectParams.extend({ taskId: Id });
const CommentParams = TaskParams.extend({ commentId: Id });

export function taskRoutes(app: FastifyInstance, deps: { orgs: OrgService; tasks: TaskService }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, tasks } = deps;
  const base = "/api/orgs/:org/projects/:project/tasks";
  const access = (request: FastifyRequest<{ Params: { org: string } }>) =>
    orgs.access(principalOf(request).userId, request.params.org);

  r.get(
    base,
    {
      schema: {
        tags,
        summary: "List the project's tasks in board order (status, then position), with optional filters",
        params: ProjectParams,
        querystring: TaskListQuery,
        response: { 200: z.array(Task), ...errors },
      },
    },
    async (request) => tasks.list(await access(request), request.params.project, request.query),
  );

  r.post(
    base,
    {
      schema: {
        tags,
        summary: "Create a task (at the bottom of its status)",
        params: ProjectParams,
        body: CreateTaskBody,
        response: { 201: Task, ...errors },
      },
    },
    async (request, reply) => {
      const task = await tasks.create(await access(request), request.params.project, request.body);
      return reply.code(201).send(task);
    },
  );

  r.get(
    `${base}/:taskId`,
    { schema: { tags, summary: "A task", params: TaskParams, response: { 200: Task, ...errors } } },
    async (request) => tasks.get(await access(request), request.params.project, request.params.taskId),
  );

  r.patch(
    `${base}/:taskId`,
    {
      schema: {
        tags,
        summary: "Edit a task's title, description, priority, assignee, labels or parent",
        params: TaskParams,
        body: UpdateTaskBody,
        response: { 200: Task, ...errors },
      },
    },
    async (request) =>
      tasks.update(await access(request), request.params.project, request.params.taskId, request.body),
  );

  r.delete(
    `${base}/:taskId`,
    {
      schema: {
        tags,
        summary: "Delete a task (its subtasks stay, without a parent)",
        params: TaskParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await tasks.delete(await access(request), request.params.project, request.params.taskId);
      return reply.code(204).send(null);
    },
  );

  r.post(
    `${base}/:taskId/move`,
    {
      schema: {
        tags,
        summary:
          "Move a task to a status and a place in its column; 409 transition_not_allowed when the workflow forbids it",
        params: TaskParams,
        body: MoveTaskBody,
        response: { 200: Task, ...errors },
      },
    },
    async (request) =>
      tasks.move(await access(request), request.params.project, request.params.taskId, request.body),
  );

  r.get(
    `${base}/:taskId/comments`,
    {
      schema: {
        tags,
        summary: "A task's comments, oldest first",
        params: TaskParams,
        response: { 200: z.array(TaskComment), ...errors },
      },
    },
    async (request) => tasks.comments(await access(request), request.params.project, request.params.taskId),
  );

  r.post(
    `${base}/:taskId/comments`,
    {
      schema: {
        tags,
        summary: "Comment on a task (reviewers may)",
        params: TaskParams,
        body: CreateCommentBody,
        response: { 201: TaskComment, ...errors },
      },
    },
    async (request, reply) => {
      const { project, taskId } = request.params;
      const comment = await tasks.comment(await access(request), project, taskId, request.body);
      return reply.code(201).send(comment);
    },
  );

  r.patch(
    `${base}/:taskId/comments/:commentId`,
    {
      schema: {
        tags,
        summary: "Edit one's own comment",
        params: CommentParams,
        body: UpdateCommentBody,
        response: { 200: TaskComment, ...errors },
      },
    },
    async (request) => {
      const { project, taskId, commentId } = request.params;
      return tasks.editComment(await access(request), project, taskId, commentId, request.body);
    },
  );

  r.delete(
    `${base}/:taskId/comments/:commentId`,
    {
      schema: {
        tags,
        summary: "Delete one's own comment (admins may delete any)",
        params: CommentParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      const { project, taskId, commentId } = request.params;
      await tasks.deleteComment(await access(request), project, taskId, commentId);
      return reply.code(204).send(null);
    },
  );

  r.get(
    `${base}/:taskId/activity`,
    {
      schema: {
        tags,
        summary:
          "A task's activity log, oldest first: every change, by whom (member, agent, automation rule)",
        params: TaskParams,
        querystring: TaskActivityQuery,
        response: { 200: z.array(TaskActivity), ...errors },
      },
    },
    async (request) =>
      tasks.activity(await access(request), request.params.project, request.params.taskId, request.query),
  );
}
