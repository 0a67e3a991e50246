import { z } from "zod";
import { Budget, BudgetId, CreateBudgetBody, UpdateBudgetBody } from "../budgets.ts";
import { defineRoute } from "./define.ts";
import { OrgParams } from "./params.ts";

const tags = ["budgets"];
const BASE = "/api/orgs/:org/budgets";
const One = OrgParams.extend({ budget: BudgetId });
const SCOPE_ERRORS = ["project_not_found", "member_not_found", "task_not_found"] as const;

/** Spend budgets (ADR 0029): every member sees them with their spend; admins set and raise them. */
export const budgets = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "The org's spend budgets, each with its current spend",
    tags,
    permission: "llm.read",
    params: OrgParams,
    response: z.array(Budget),
  }),
  create: defineRoute({
    method: "POST",
    path: BASE,
    summary: "Add a budget (admin); one per scope, scope id and period",
    tags,
    permission: "llm.manage",
    params: OrgParams,
    body: CreateBudgetBody,
    status: 201,
    response: Budget,
    errors: [...SCOPE_ERRORS, "budget_exists"],
  }),
  update: defineRoute({
    method: "PATCH",
    path: `${BASE}/:budget`,
    summary: "Raise or lower a budget's limit or soft fraction (admin)",
    tags,
    permission: "llm.manage",
    params: One,
    body: UpdateBudgetBody,
    response: Budget,
    errors: ["budget_not_found"],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: `${BASE}/:budget`,
    summary: "Delete a budget (admin)",
    tags,
    permission: "llm.manage",
    params: One,
    response: Budget,
    errors: ["budget_not_found"],
  }),
};
