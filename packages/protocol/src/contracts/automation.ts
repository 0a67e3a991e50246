import { z } from "zod";
import { AutomationRule, CreateRuleBody, UpdateRuleBody } from "../automation.ts";
import { Id } from "../common.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["automation"];
const RULES = "/api/orgs/:org/projects/:project/automation/rules";
const RULE = "/api/orgs/:org/projects/:project/automation/rules/:ruleId";
const RuleParams = ProjectParams.extend({ ruleId: Id });

/** A rule names statuses of the project and members of the org. */
const RULE_REFS = ["status_not_found", "assignee_not_member"] as const;

export const automation = {
  list: defineRoute({
    method: "GET",
    path: RULES,
    summary: "The project's automation rules, in the order they run",
    tags,
    permission: "tasks.read",
    params: ProjectParams,
    response: z.array(AutomationRule),
    errors: ["project_not_found"],
  }),
  create: defineRoute({
    method: "POST",
    path: RULES,
    summary: "Add an automation rule (runs after the existing ones)",
    tags,
    permission: "automation.manage",
    params: ProjectParams,
    body: CreateRuleBody,
    status: 201,
    response: AutomationRule,
    errors: ["project_not_found", "too_many_rules", ...RULE_REFS],
  }),
  get: defineRoute({
    method: "GET",
    path: RULE,
    summary: "An automation rule",
    tags,
    permission: "tasks.read",
    params: RuleParams,
    response: AutomationRule,
    errors: ["project_not_found", "rule_not_found"],
  }),
  update: defineRoute({
    method: "PATCH",
    path: RULE,
    summary: "Edit an automation rule (enable, disable, change trigger, conditions or actions)",
    tags,
    permission: "automation.manage",
    params: RuleParams,
    body: UpdateRuleBody,
    response: AutomationRule,
    errors: ["project_not_found", "rule_not_found", ...RULE_REFS],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: RULE,
    summary: "Delete an automation rule",
    tags,
    permission: "automation.manage",
    params: RuleParams,
    status: 204,
    response: z.null(),
    errors: ["project_not_found", "rule_not_found"],
  }),
};
