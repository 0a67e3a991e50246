import { AUTOMATION_MAX_DEPTH, type AutomationAction, type AutomationRule, type Task } from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import type { Database } from "../../db/client.ts";
import { KilnError } from "../../errors/errors.ts";
import type { BoardContext, TaskCommands } from "../tasks/commands.ts";
import type { JobStarter } from "./job-starter.ts";
import { conditionsHold, type TaskEvent, triggerMatches } from "./match.ts";
import { listRules } from "./store.ts";

/**
 * However the rules fan out, one change sets off at most this many rule runs (the depth limit bounds chains;
 * this bounds many rules each firing several actions).
 */
export const MAX_RULE_RUNS_PER_CHANGE = 50;

/**
 * Runs a project's automation rules on the events task changes cause. A rule's actions are task changes made
 * as the rule (actor `automation`, one level deeper than what set it off), so their own events run rules in
 * turn, down to AUTOMATION_MAX_DEPTH. Rules run after the triggering change has committed, and nothing they do
 * fails that change: a failure or a refusal is written in the task's activity.
 */
export class AutomationEngine {
  readonly #database: Database;
  readonly #commands: TaskCommands;
  readonly #log: FastifyBaseLogger;
  #jobs: JobStarter | undefined;

  constructor(deps: {
    database: Database;
    commands: TaskCommands;
    log: FastifyBaseLogger;
    jobs?: JobStarter;
  }) {
    this.#database = deps.database;
    this.#commands = deps.commands;
    this.#log = deps.log;
    this.#jobs = deps.jobs;
    deps.commands.onEvents((ctx, events) => this.handle(ctx, events));
  }

  useJobStarter(jobs: JobStarter | undefined): void {
    this.#jobs = jobs;
  }

  async handle(ctx: BoardContext, events: TaskEvent[]): Promise<void> {
    const chain = ctx.chain ?? { runs: 0, jobs: new Set<string>() };
    try {
      const rules = await this.#database.tenant(ctx.org.schemaName, (tx) =>
        listRules(tx, ctx.projectId, { enabledOnly: true }),
      );
      for (const event of events) {
        const matching = rules.filter((rule) => triggerMatches(rule.trigger, event));
        for (const rule of matching) await this.#run(ctx, chain, rule, event.taskId);
      }
    } catch (err) {
      this.#log.error({ err, projectId: ctx.projectId }, "automation failed");
    }
  }

  async #run(
    ctx: BoardContext,
    chain: NonNullable<BoardContext["chain"]>,
    rule: AutomationRule,
    taskId: string,
  ): Promise<void> {
    const depth = ctx.depth + 1;
    const ruleCtx: BoardContext = {
      ...ctx,
      actor: { type: "automation", ruleId: rule.id, depth },
      depth,
      chain,
    };
    // The task as it is now: an earlier rule may have changed it, or someone deleted it.
    const task = await this.#commands.get(ctx, taskId).catch(() => null);
    if (!task || !conditionsHold(rule.conditions, task)) return;
    if (depth > AUTOMATION_MAX_DEPTH || chain.runs >= MAX_RULE_RUNS_PER_CHANGE) {
      const why =
        depth > AUTOMATION_MAX_DEPTH
          ? `it would run at depth ${depth} and the limit is ${AUTOMATION_MAX_DEPTH}`
          : `one change may set off at most ${MAX_RULE_RUNS_PER_CHANGE} rule runs`;
      await this.#note(ruleCtx, taskId, {
        kind: "automation_refused",
        message: `rule "${rule.name}" did not run: ${why} (do rules set each other off?)`,
      });
      return;
    }
    chain.runs++;
    for (const action of rule.actions) {
      try {
        await this.#act(ruleCtx, rule, action, task);
      } catch (err) {
        if (!(err instanceof KilnError))
          this.#log.error({ err, ruleId: rule.id }, "automation action failed");
        const reason = err instanceof KilnError ? err.message : "internal error";
        await this.#note(ruleCtx, taskId, {
          kind: "automation_failed",
          to: { action: action.type },
          message: `rule "${rule.name}": ${action.type} failed: ${reason}`,
        });
      }
    }
  }

  async #act(ctx: BoardContext, rule: AutomationRule, action: AutomationAction, task: Task): Promise<void> {
    switch (action.type) {
      case "start_job": {
        // Two rules one change sets off (assigned to the agent → moved to In progress → implement) start
        // one job between them.
        const once = `${task.id} ${action.kind}`;
        if (ctx.chain?.jobs.has(once)) return;
        ctx.chain?.jobs.add(once);
        if (!this.#jobs) {
          await this.#note(ctx, task.id, {
            kind: "job_not_started",
            to: { kind: action.kind },
            message: `rule "${rule.name}" wanted a ${action.kind} job: no job runner configured`,
          });
          return;
        }
        // The rule's agent, else the one the task is assigned to, else the built-in.
        const agentId =
          action.agentId ?? (task.assignee?.type === "agent" ? task.assignee.agentId : undefined);
        const { jobId } = await this.#jobs.startJob({
          org: ctx.org,
          projectId: ctx.projectId,
          taskId: task.id,
          kind: action.kind,
          requestedBy: ctx.requestedBy,
          instructions: jobInstructions(task, action.kind, action.instructions),
          ...(agentId ? { agentId } : {}),
          ruleId: rule.id,
          depth: ctx.depth,
        });
        await this.#note(ctx, task.id, { kind: "job_started", to: { jobId, kind: action.kind } });
        return;
      }
      case "move": {
        const current = await this.#commands.get(ctx, task.id);
        if (current.statusId !== action.statusId) {
          await this.#commands.move(ctx, task.id, { statusId: action.statusId });
        }
        return;
      }
      case "assign":
        await this.#commands.update(ctx, task.id, { assignee: action.assignee });
        return;
      case "comment":
        await this.#commands.comment(ctx, task.id, { body: action.text });
        return;
    }
  }

  async #note(ctx: BoardContext, taskId: string, entry: Parameters<TaskCommands["note"]>[2]): Promise<void> {
    await this.#commands.note(ctx, taskId, entry).catch((err) => {
      this.#log.error({ err, taskId }, "could not write an automation note");
    });
  }
}

/** The job's brief: the task itself (the agent has nothing else), and what the rule adds. */
function jobInstructions(
  task: { number: number; title: string; description: string },
  kind: string,
  extra: string | undefined,
): string {
  const lines = [
    kind === "review"
      ? `Review the implementation of task #${task.number} on this branch.`
      : `${kind === "fix" ? "Fix" : "Implement"} task #${task.number}: ${task.title}`,
  ];
  if (task.description.trim()) lines.push("", task.description.trim());
  if (extra?.trim()) lines.push("", extra.trim());
  return lines.join("\n").slice(0, 20_000);
}
