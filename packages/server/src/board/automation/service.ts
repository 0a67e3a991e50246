import { randomUUID } from "node:crypto";
import {
  type AutomationAction,
  type AutomationConditions,
  type AutomationRule,
  type AutomationTrigger,
  type CreateRuleBody,
  MAX_RULES_PER_PROJECT,
  type UpdateRuleBody,
} from "@kiln/protocol";
import { count, eq } from "drizzle-orm";
import { pickAgent } from "../../agents/service.ts";
import type { Database, Executor } from "../../db/client.ts";
import { automationRules } from "../../db/schema-tenant.ts";
import { ConflictError } from "../../errors/errors.ts";
import { requirePermission } from "../../orgs/roles.ts";
import type { OrgAccess } from "../../orgs/service.ts";
import type { ProjectService } from "../../projects/service.ts";
import { inProject } from "../tasks/in-project.ts";
import { agentIdOf, checkAssignee } from "../tasks/store.ts";
import { ensureWorkflow, lockBoard, requireStatuses } from "../workflows/store.ts";
import type { AutomationEngine } from "./engine.ts";
import type { JobStarter } from "./job-starter.ts";
import { statusIdsIn } from "./match.ts";
import { findRule, listRules, toRule } from "./store.ts";

/** A project's automation rules: list, create, edit, delete. The engine runs them. */
export class AutomationService {
  /** Where the project named in a request is looked up, and whose schema its queries run in. */
  readonly #scope: { database: Database; projects: ProjectService };
  readonly #engine: AutomationEngine;

  constructor(deps: { database: Database; projects: ProjectService; engine: AutomationEngine }) {
    this.#scope = { database: deps.database, projects: deps.projects };
    this.#engine = deps.engine;
  }

  /** Plugs in the job queue: `start_job` actions go there from now on. */
  useJobStarter(jobs: JobStarter | undefined): void {
    this.#engine.useJobStarter(jobs);
  }

  async list(access: OrgAccess, projectRef: string): Promise<AutomationRule[]> {
    requirePermission(access.role, "tasks.read");
    return inProject(this.#scope, access, projectRef, async (tx, projectId) => {
      // The template's rules come with the workflow.
      await ensureWorkflow(tx, projectId);
      return listRules(tx, projectId);
    });
  }

  async get(access: OrgAccess, projectRef: string, ruleId: string): Promise<AutomationRule> {
    requirePermission(access.role, "tasks.read");
    return inProject(this.#scope, access, projectRef, async (tx, projectId) =>
      toRule(await findRule(tx, projectId, ruleId)),
    );
  }

  async create(access: OrgAccess, projectRef: string, body: CreateRuleBody): Promise<AutomationRule> {
    requirePermission(access.role, "automation.manage");
    return inProject(this.#scope, access, projectRef, async (tx, projectId) => {
      await lockBoard(tx, projectId);
      const [held] = await tx
        .select({ n: count() })
        .from(automationRules)
        .where(eq(automationRules.projectId, projectId));
      if (held!.n >= MAX_RULES_PER_PROJECT) {
        throw new ConflictError("too_many_rules", `a project has at most ${MAX_RULES_PER_PROJECT} rules`);
      }
      const trigger = normalTrigger(body.trigger);
      const conditions = normalConditions(body.conditions ?? {});
      const actions = body.actions.map(normalAction);
      await this.#check(tx, access, projectId, { trigger, conditions, actions });
      const [row] = await tx
        .insert(automationRules)
        .values({
          id: randomUUID(),
          projectId,
          name: body.name,
          enabled: body.enabled ?? true,
          trigger,
          conditions,
          actions,
          createdBy: access.userId,
        })
        .returning();
      return toRule(row!);
    });
  }

  async update(
    access: OrgAccess,
    projectRef: string,
    ruleId: string,
    body: UpdateRuleBody,
  ): Promise<AutomationRule> {
    requirePermission(access.role, "automation.manage");
    return inProject(this.#scope, access, projectRef, async (tx, projectId) => {
      await lockBoard(tx, projectId);
      const current = toRule(await findRule(tx, projectId, ruleId));
      const trigger = body.trigger ? normalTrigger(body.trigger) : current.trigger;
      const conditions = body.conditions ? normalConditions(body.conditions) : current.conditions;
      const actions = body.actions ? body.actions.map(normalAction) : current.actions;
      await this.#check(tx, access, projectId, { trigger, conditions, actions });
      const [row] = await tx
        .update(automationRules)
        .set({
          name: body.name ?? current.name,
          enabled: body.enabled ?? current.enabled,
          trigger,
          conditions,
          actions,
          updatedAt: new Date(),
        })
        .where(eq(automationRules.id, current.id))
        .returning();
      return toRule(row!);
    });
  }

  async delete(access: OrgAccess, projectRef: string, ruleId: string): Promise<void> {
    requirePermission(access.role, "automation.manage");
    await inProject(this.#scope, access, projectRef, async (tx, projectId) => {
      const current = await findRule(tx, projectId, ruleId);
      await tx.delete(automationRules).where(eq(automationRules.id, current.id));
    });
  }

  /** Statuses a rule names must be this project's, and a member it assigns must belong to the org. */
  async #check(
    tx: Executor,
    access: OrgAccess,
    projectId: string,
    rule: { trigger: AutomationTrigger; conditions: AutomationConditions; actions: AutomationAction[] },
  ): Promise<void> {
    await requireStatuses(tx, projectId, statusIdsIn(rule));
    for (const action of rule.actions) {
      if (action.type === "assign") await checkAssignee(tx, access.org.id, action.assignee);
      if (action.type === "start_job") await pickAgent(tx, action.agentId);
    }
  }
}

// Ids are compared as stored; UUIDs may arrive in either case.
function normalTrigger(trigger: AutomationTrigger): AutomationTrigger {
  return trigger.type === "task_moved" && trigger.toStatus
    ? { ...trigger, toStatus: trigger.toStatus.toLowerCase() }
    : trigger;
}

function normalConditions(conditions: AutomationConditions): AutomationConditions {
  return conditions.statusIn
    ? { ...conditions, statusIn: [...new Set(conditions.statusIn.map((id) => id.toLowerCase()))] }
    : conditions;
}

function normalAction(action: AutomationAction): AutomationAction {
  if (action.type === "move") return { ...action, statusId: action.statusId.toLowerCase() };
  if (action.type === "assign" && action.assignee?.type === "member") {
    return { ...action, assignee: { ...action.assignee, userId: action.assignee.userId.toLowerCase() } };
  }
  if (action.type === "assign" && action.assignee?.type === "agent") {
    const agentId = agentIdOf(action.assignee);
    return { ...action, assignee: agentId ? { type: "agent", agentId } : { type: "agent" } };
  }
  if (action.type === "start_job") {
    const { agentId: _given, ...rest } = action;
    const agentId = agentIdOf(action);
    return agentId ? { ...rest, agentId } : rest;
  }
  return action;
}
