import { z } from "zod";
import { Id } from "../common.ts";
import { ReviewDecisionBody, ReviewDecisionResult, TaskReview } from "../reviews.ts";
import {
  CreateCommentBody,
  CreateTaskBody,
  MoveTaskBody,
  Task,
  TaskActivity,
  TaskActivityQuery,
  TaskComment,
  TaskListQuery,
  UpdateCommentBody,
  UpdateTaskBody,
} from "../tasks.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["tasks"];
const TASKS = "/api/orgs/:org/projects/:project/tasks";
const TASK = "/api/orgs/:org/projects/:project/tasks/:taskId";
const COMMENTS = "/api/orgs/:org/projects/:project/tasks/:taskId/comments";
const COMMENT = "/api/orgs/:org/projects/:project/tasks/:taskId/comments/:commentId";
const REVIEW = "/api/orgs/:org/projects/:project/tasks/:taskId/review";
const TaskParams = ProjectParams.extend({ taskId: Id });
const CommentParams = TaskParams.extend({ commentId: Id });

/** A task's body (create, edit) names statuses, members and tasks that must exist. */
const TASK_REFS = ["status_not_found", "assignee_not_member", "task_parent_invalid"] as const;

export const tasks = {
  list: defineRoute({
    method: "GET",
    path: TASKS,
    summary: "List the project's tasks in board order (status, then position), with optional filters",
    tags,
    permission: "tasks.read",
    params: ProjectParams,
    query: TaskListQuery,
    response: z.array(Task),
    errors: ["project_not_found"],
  }),
  create: defineRoute({
    method: "POST",
    path: TASKS,
    summary: "Create a task (at the bottom of its status)",
    tags,
    permission: "tasks.write",
    params: ProjectParams,
    body: CreateTaskBody,
    status: 201,
    response: Task,
    errors: ["project_not_found", ...TASK_REFS],
  }),
  get: defineRoute({
    method: "GET",
    path: TASK,
    summary: "A task",
    tags,
    permission: "tasks.read",
    params: TaskParams,
    response: Task,
    errors: ["project_not_found", "task_not_found"],
  }),
  update: defineRoute({
    method: "PATCH",
    path: TASK,
    summary: "Edit a task's title, description, priority, assignee, labels or parent",
    tags,
    permission: "tasks.write",
    params: TaskParams,
    body: UpdateTaskBody,
    response: Task,
    errors: ["project_not_found", "task_not_found", ...TASK_REFS],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: TASK,
    summary: "Delete a task (its subtasks stay, without a parent)",
    tags,
    permission: "tasks.write",
    params: TaskParams,
    status: 204,
    response: z.null(),
    errors: ["project_not_found", "task_not_found"],
  }),
  move: defineRoute({
    method: "POST",
    path: "/api/orgs/:org/projects/:project/tasks/:taskId/move",
    summary:
      "Move a task to a status and a place in its column; 409 transition_not_allowed when the workflow forbids it",
    tags,
    permission: "tasks.write",
    params: TaskParams,
    body: MoveTaskBody,
    response: Task,
    errors: [
      "project_not_found",
      "task_not_found",
      "status_not_found",
      "task_anchor_invalid",
      "transition_not_allowed",
    ],
  }),
  comments: defineRoute({
    method: "GET",
    path: COMMENTS,
    summary: "A task's comments, oldest first",
    tags,
    permission: "tasks.read",
    params: TaskParams,
    response: z.array(TaskComment),
    errors: ["project_not_found", "task_not_found"],
  }),
  comment: defineRoute({
    method: "POST",
    path: COMMENTS,
    summary: "Comment on a task (reviewers may)",
    tags,
    permission: "tasks.comment",
    params: TaskParams,
    body: CreateCommentBody,
    status: 201,
    response: TaskComment,
    errors: ["project_not_found", "task_not_found"],
  }),
  editComment: defineRoute({
    method: "PATCH",
    path: COMMENT,
    summary: "Edit one's own comment",
    tags,
    // Only its author, which the service checks.
    permission: "tasks.comment",
    // Only its author edits a comment.
    others: "none",
    params: CommentParams,
    body: UpdateCommentBody,
    response: TaskComment,
    errors: ["project_not_found", "task_not_found", "comment_not_found"],
  }),
  removeComment: defineRoute({
    method: "DELETE",
    path: COMMENT,
    summary: "Delete one's own comment (admins may delete any)",
    tags,
    // Its author, or a moderator (tasks.moderate): the service decides which.
    permission: "tasks.comment",
    others: "tasks.moderate",
    params: CommentParams,
    status: 204,
    response: z.null(),
    errors: ["project_not_found", "task_not_found", "comment_not_found"],
  }),
  activity: defineRoute({
    method: "GET",
    path: "/api/orgs/:org/projects/:project/tasks/:taskId/activity",
    summary: "A task's activity log, oldest first: every change, by whom (member, agent, automation rule)",
    tags,
    permission: "tasks.read",
    params: TaskParams,
    query: TaskActivityQuery,
    response: z.array(TaskActivity),
    errors: ["project_not_found", "task_not_found"],
  }),
  review: defineRoute({
    method: "GET",
    path: REVIEW,
    summary: "The agent's work on a task: its branch against main, with the summary",
    tags,
    permission: "tasks.read",
    params: TaskParams,
    response: TaskReview,
    errors: ["project_not_found", "task_not_found", "history_unavailable", "history_busy"],
  }),
  decide: defineRoute({
    method: "POST",
    path: REVIEW,
    summary: "Approve (merge into main, close the task) or request changes (a fix job with the comment)",
    tags,
    permission: "tasks.write",
    params: TaskParams,
    body: ReviewDecisionBody,
    response: ReviewDecisionResult,
    errors: [
      "project_not_found",
      "task_not_found",
      "task_busy",
      "review_not_ready",
      "branch_not_found",
      "merge_conflict",
      "files_in_the_way",
      "history_unavailable",
      "history_busy",
    ],
  }),
};
