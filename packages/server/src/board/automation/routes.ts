import { AutomationRule, CreateRuleBody, ErrorEnvelope, Id, IdOrSlug, UpdateRuleBody } from "@kiln/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { principalOf } from "../../http/principal.ts";
import type { OrgService } from "../../orgs/service.ts";
import type { AutomationService } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["automation"];
const ProjectParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug });
const RuleParams = ProjectParams.extend({ ruleId: Id });

export function automationRoutes(
  app: FastifyInstance,
  deps: { orgs: OrgService; automation: AutomationService },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, automation } = deps;
  const base = "/api/orgs/:org/projects/:project/automation/rules";
  const access = (request: FastifyRequest<{ Params: { org: string } }>) =>
    orgs.access(principalOf(request).userId, request.params.org);

  r.get(
    base,
    {
      schema: {
        tags,
        summary: "The project's automation rules, in the order they run",
        params: ProjectParams,
        response: { 200: z.array(AutomationRule), ...errors },
      },
    },
    async (request) => automation.list(await access(request), request.params.project),
  );

  r.post(
    base,
    {
      schema: {
        tags,
        summary: "Add an automation rule (runs after the existing ones)",
        params: ProjectParams,
        body: CreateRuleBody,
        response: { 201: AutomationRule, ...errors },
      },
    },
    async (request, reply) => {
      const rule = await automation.create(await access(request), request.params.project, request.body);
      return reply.code(201).send(rule);
    },
  );

  r.get(
    `${base}/:ruleId`,
    {
      schema: {
        tags,
        summary: "An automation rule",
        params: RuleParams,
        response: { 200: AutomationRule, ...errors },
      },
    },
    async (request) => automation.get(await access(request), request.params.project, request.params.ruleId),
  );

  r.patch(
    `${base}/:ruleId`,
    {
      schema: {
        tags,
        summary: "Edit an automation rule (enable, disable, change trigger, conditions or actions)",
        params: RuleParams,
        body: UpdateRuleBody,
        response: { 200: AutomationRule, ...errors },
      },
    },
    async (request) =>
      automation.update(await access(request), request.params.project, request.params.ruleId, request.body),
  );

  r.delete(
    `${base}/:ruleId`,
    {
      schema: {
        tags,
        summary: "Delete an automation rule",
        params: RuleParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await automation.delete(await access(request), request.params.project, request.params.ruleId);
      return reply.code(204).send(null);
    },
  );
}
