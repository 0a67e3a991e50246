import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const t = routes.tasks;
const w = routes.workflows;
const a = routes.automation;

export const tasks = {
  list: (org: string, project: string) => call(t.list, { params: { org, project } }),
  create: (org: string, project: string, body: BodyOf<typeof t.create>) =>
    call(t.create, { params: { org, project }, body }),
  get: (org: string, project: string, taskId: string) => call(t.get, { params: { org, project, taskId } }),
  update: (org: string, project: string, taskId: string, body: BodyOf<typeof t.update>) =>
    call(t.update, { params: { org, project, taskId }, body }),
  remove: (org: string, project: string, taskId: string) =>
    call(t.remove, { params: { org, project, taskId } }),
  move: (org: string, project: string, taskId: string, body: BodyOf<typeof t.move>) =>
    call(t.move, { params: { org, project, taskId }, body }),
  comments: (org: string, project: string, taskId: string) =>
    call(t.comments, { params: { org, project, taskId } }),
  comment: (org: string, project: string, taskId: string, body: string) =>
    call(t.comment, { params: { org, project, taskId }, body: { body } }),
  activity: (org: string, project: string, taskId: string) =>
    call(t.activity, { params: { org, project, taskId } }),
  review: (org: string, project: string, taskId: string) =>
    call(t.review, { params: { org, project, taskId } }),
  decide: (org: string, project: string, taskId: string, body: BodyOf<typeof t.decide>) =>
    call(t.decide, { params: { org, project, taskId }, body }),
  workflow: (org: string, project: string) => call(w.get, { params: { org, project } }),
  addStatus: (org: string, project: string, body: BodyOf<typeof w.addStatus>) =>
    call(w.addStatus, { params: { org, project }, body }),
  updateStatus: (org: string, project: string, statusId: string, body: BodyOf<typeof w.updateStatus>) =>
    call(w.updateStatus, { params: { org, project, statusId }, body }),
  removeStatus: (org: string, project: string, statusId: string) =>
    call(w.removeStatus, { params: { org, project, statusId } }),
  rules: (org: string, project: string) => call(a.list, { params: { org, project } }),
  createRule: (org: string, project: string, body: BodyOf<typeof a.create>) =>
    call(a.create, { params: { org, project }, body }),
  updateRule: (org: string, project: string, ruleId: string, body: BodyOf<typeof a.update>) =>
    call(a.update, { params: { org, project, ruleId }, body }),
  removeRule: (org: string, project: string, ruleId: string) =>
    call(a.remove, { params: { org, project, ruleId } }),
};
