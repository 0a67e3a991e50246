import { Id } from "../common.ts";
import {
  ApplyWorkflowTemplateBody,
  CreateStatusBody,
  ReorderStatusesBody,
  UpdateStatusBody,
  Workflow,
} from "../workflows.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["workflows"];
const STATUS = "/api/orgs/:org/projects/:project/workflow/statuses/:statusId";
const StatusParams = ProjectParams.extend({ statusId: Id });

export const workflows = {
  get: defineRoute({
    method: "GET",
    path: "/api/orgs/:org/projects/:project/workflow",
    summary: "The project's workflow: statuses in column order with their allowed moves (made at first use)",
    tags,
    permission: "tasks.read",
    params: ProjectParams,
    response: Workflow,
    errors: ["project_not_found"],
  }),
  applyTemplate: defineRoute({
    method: "PUT",
    path: "/api/orgs/:org/projects/:project/workflow/template",
    summary: "Start the workflow over from a template (only while the project has no tasks)",
    tags,
    permission: "workflows.manage",
    params: ProjectParams,
    body: ApplyWorkflowTemplateBody,
    response: Workflow,
    errors: ["project_not_found", "workflow_in_use"],
  }),
  addStatus: defineRoute({
    method: "POST",
    path: "/api/orgs/:org/projects/:project/workflow/statuses",
    summary: "Add a status",
    tags,
    permission: "workflows.manage",
    params: ProjectParams,
    body: CreateStatusBody,
    status: 201,
    response: Workflow,
    // `conflict`: the workflow has as many statuses as it may.
    errors: ["project_not_found", "status_not_found", "status_name_taken", "conflict"],
  }),
  updateStatus: defineRoute({
    method: "PATCH",
    path: STATUS,
    summary: "Rename a status, change its group or colour, or replace its allowed moves",
    tags,
    permission: "workflows.manage",
    params: StatusParams,
    body: UpdateStatusBody,
    response: Workflow,
    errors: ["project_not_found", "status_not_found", "status_name_taken"],
  }),
  removeStatus: defineRoute({
    method: "DELETE",
    path: STATUS,
    summary: "Delete a status; 409 status_in_use while tasks are in it or rules name it",
    tags,
    permission: "workflows.manage",
    params: StatusParams,
    response: Workflow,
    errors: ["project_not_found", "status_not_found", "status_in_use"],
  }),
  reorder: defineRoute({
    method: "PUT",
    path: "/api/orgs/:org/projects/:project/workflow/order",
    summary: "Reorder the statuses (every status, in the new order)",
    tags,
    permission: "workflows.manage",
    params: ProjectParams,
    body: ReorderStatusesBody,
    response: Workflow,
    errors: ["project_not_found"],
  }),
};
