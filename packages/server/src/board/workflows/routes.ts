import {
  ApplyWorkflowTemplateBody,
  CreateStatusBody,
  ErrorEnvelope,
  Id,
  IdOrSlug,
  ReorderStatusesBody,
  UpdateStatusBody,
  Workflow,
} from "@kiln/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../../http/principal.ts";
import type { OrgService } from "../../orgs/service.ts";
import type { WorkflowService } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["workflows"];
const ProjectParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug });
const StatusParams = ProjectParams.extend({ statusId: Id });
const response = { 200: Workflow, ...errors };

export function workflowRoutes(
  app: FastifyInstance,
  deps: { orgs: OrgService; workflows: WorkflowService },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, workflows } = deps;
  const base = "/api/orgs/:org/projects/:project/workflow";
  const access = (request: FastifyRequest<{ Params: { org: string } }>) =>
    orgs.access(principalOf(request).userId, request.params.org);

  r.get(
    base,
    {
      schema: {
        tags,
        summary:
          "The project's workflow: statuses in column order with their allowed moves (made at first use)",
        params: ProjectParams,
        response,
      },
    },
    async (request) => workflows.get(await access(request), request.params.project),
  );

  r.put(
    `${base}/template`,
    {
      schema: {
        tags,
        summary: "Start the workflow over from a template (only while the project has no tasks)",
        params: ProjectParams,
        body: ApplyWorkflowTemplateBody,
        response,
      },
    },
    async (request) => workflows.applyTemplate(await access(request), request.params.project, request.body),
  );

  r.post(
    `${base}/statuses`,
    {
      schema: {
        tags,
        summary: "Add a status",
        params: ProjectParams,
        body: CreateStatusBody,
        response: { 201: Workflow, ...errors },
      },
    },
    async (request, reply) => {
      const workflow = await workflows.addStatus(await access(request), request.params.project, request.body);
      return reply.code(201).send(workflow);
    },
  );

  r.patch(
    `${base}/statuses/:statusId`,
    {
      schema: {
        tags,
        summary: "Rename a status, change its group or colour, or replace its allowed moves",
        params: StatusParams,
        body: UpdateStatusBody,
        response,
      },
    },
    async (request) =>
      workflows.updateStatus(
        await access(request),
        request.params.project,
        request.params.statusId,
        request.body,
      ),
  );

  r.delete(
    `${base}/statuses/:statusId`,
    {
      schema: {
        tags,
        summary: "Delete a status; 409 status_in_use while tasks are in it or rules name it",
        params: StatusParams,
        response,
      },
    },
    async (request) =>
      workflows.deleteStatus(await access(request), request.params.project, request.params.statusId),
  );

  r.put(
    `${base}/order`,
    {
      schema: {
        tags,
        summary: "Reorder the statuses (every status, in the new order)",
        params: ProjectParams,
        body: ReorderStatusesBody,
        response,
      },
    },
    async (request) => workflows.reorder(await access(request), request.params.project, request.body),
  );
}
