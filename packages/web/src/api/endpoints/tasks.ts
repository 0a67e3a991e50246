import type {
  AutomationRule,
  CreateRuleBody,
  CreateStatusBody,
  CreateTaskBody,
  MoveTaskBody,
  ReviewDecisionBody,
  ReviewDecisionResult,
  Task,
  TaskActivity,
  TaskComment,
  TaskReview,
  UpdateRuleBody,
  UpdateStatusBody,
  UpdateTaskBody,
  Workflow,
} from "@kiln/protocol";
import { http } from "../client.ts";
import { e, projectPath, taskPath } from "./paths.ts";

export const tasks = {
  list: (org: string, project: string) => http.get<Task[]>(`${projectPath(org, project)}/tasks`),
  create: (org: string, project: string, body: CreateTaskBody) =>
    http.post<Task>(`${projectPath(org, project)}/tasks`, body),
  get: (org: string, project: string, taskId: string) => http.get<Task>(taskPath(org, project, taskId)),
  update: (org: string, project: string, taskId: string, body: UpdateTaskBody) =>
    http.patch<Task>(taskPath(org, project, taskId), body),
  remove: (org: string, project: string, taskId: string) =>
    http.delete<undefined>(taskPath(org, project, taskId)),
  move: (org: string, project: string, taskId: string, body: MoveTaskBody) =>
    http.post<Task>(`${taskPath(org, project, taskId)}/move`, body),
  comments: (org: string, project: string, taskId: string) =>
    http.get<TaskComment[]>(`${taskPath(org, project, taskId)}/comments`),
  comment: (org: string, project: string, taskId: string, body: string) =>
    http.post<TaskComment>(`${taskPath(org, project, taskId)}/comments`, { body }),
  activity: (org: string, project: string, taskId: string) =>
    http.get<TaskActivity[]>(`${taskPath(org, project, taskId)}/activity`),
  review: (org: string, project: string, taskId: string) =>
    http.get<TaskReview>(`${taskPath(org, project, taskId)}/review`),
  decide: (org: string, project: string, taskId: string, body: ReviewDecisionBody) =>
    http.post<ReviewDecisionResult>(`${taskPath(org, project, taskId)}/review`, body),
  workflow: (org: string, project: string) => http.get<Workflow>(`${projectPath(org, project)}/workflow`),
  addStatus: (org: string, project: string, body: CreateStatusBody) =>
    http.post<Workflow>(`${projectPath(org, project)}/workflow/statuses`, body),
  updateStatus: (org: string, project: string, statusId: string, body: UpdateStatusBody) =>
    http.patch<Workflow>(`${projectPath(org, project)}/workflow/statuses/${e(statusId)}`, body),
  removeStatus: (org: string, project: string, statusId: string) =>
    http.delete<Workflow>(`${projectPath(org, project)}/workflow/statuses/${e(statusId)}`),
  rules: (org: string, project: string) =>
    http.get<AutomationRule[]>(`${projectPath(org, project)}/automation/rules`),
  createRule: (org: string, project: string, body: CreateRuleBody) =>
    http.post<AutomationRule>(`${projectPath(org, project)}/automation/rules`, body),
  updateRule: (org: string, project: string, ruleId: string, body: UpdateRuleBody) =>
    http.patch<AutomationRule>(`${projectPath(org, project)}/automation/rules/${e(ruleId)}`, body),
  removeRule: (org: string, project: string, ruleId: string) =>
    http.delete<undefined>(`${projectPath(org, project)}/automation/rules/${e(ruleId)}`),
};
