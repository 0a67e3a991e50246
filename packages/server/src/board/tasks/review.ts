import type { ReviewDecisionBody, ReviewDecisionResult, TaskReview } from "@kiln/protocol";
import { recordAudit, userActor } from "../../audit/index.ts";
import type { Database } from "../../db/client.ts";
import { ConflictError } from "../../errors/errors.ts";
import type { ProjectHistory } from "../../history/service.ts";
import type { JobService } from "../../jobs/service.ts";
import { requirePermission } from "../../orgs/roles.ts";
import type { OrgAccess, OrgRow } from "../../orgs/service.ts";
import type { ProjectService } from "../../projects/service.ts";
import { listStatuses } from "../workflows/store.ts";
import type { BoardContext, TaskCommands } from "./commands.ts";

const ACTIVE = new Set(["queued", "dispatched", "running"]);

export interface TaskReviewsDeps {
  database: Database;
  projects: ProjectService;
  commands: TaskCommands;
  history: ProjectHistory;
  jobs: JobService;
  /** Told after work was merged into main (auto-deploy); must not throw or wait. */
  onMerged?(
    org: OrgRow,
    projectId: string,
    userId: string,
    merge: { taskId: string; jobId: string; commit: string },
  ): void;
}

/**
 * The review step of the board: the agent's branch of a task against main, and the reviewer's decision —
 * approve merges it into main (the preview follows) and closes the task; request changes starts a fix job
 * on the same branch with the reviewer's words.
 */
export class TaskReviews {
  readonly #d: TaskReviewsDeps;

  constructor(deps: TaskReviewsDeps) {
    this.#d = deps;
  }

  async get(access: OrgAccess, projectRef: string, taskId: string): Promise<TaskReview> {
    requirePermission(access.role, "tasks.read");
    const ctx = await this.#context(access, projectRef);
    await this.#d.commands.get(ctx, taskId);
    const job = await this.#lastWork(access, ctx.projectId, taskId);
    if (!job?.result?.branch) return { job: job ?? null, branch: null, summary: null, diff: null };
    const diff = await this.#d.history.branchDiff(
      { org: access.org, projectId: ctx.projectId },
      job.result.branch,
    );
    return { job, branch: job.result.branch, summary: job.result.summary, diff };
  }

  async decide(
    access: OrgAccess,
    projectRef: string,
    taskId: string,
    body: ReviewDecisionBody,
  ): Promise<ReviewDecisionResult> {
    requirePermission(access.role, "tasks.write");
    const ctx = await this.#context(access, projectRef);
    const task = await this.#d.commands.get(ctx, taskId);
    const jobs = await this.#d.jobs.list(access.org, { projectId: ctx.projectId, taskId, limit: 50 });
    // A decision on work that is still changing would merge half of it, or start a second job on one branch.
    const active = jobs.find((j) => ACTIVE.has(j.state) && j.kind !== "review");
    if (active)
      throw new ConflictError("task_busy", `an agent ${active.kind} job is still working on this task`, {
        jobId: active.id,
      });
    const job = jobs.find((j) => j.kind !== "review" && j.state === "completed");
    const branch = job?.result?.branch;
    if (!job || !branch)
      throw new ConflictError("review_not_ready", "no finished agent work to review on this task");
    if (body.decision === "approve") {
      const { merged } = await this.#d.history.mergeBranch(
        { org: access.org, projectId: ctx.projectId },
        branch,
        `Merge #${task.number}: ${task.title}\n\nKiln-Task: ${task.id}\nKiln-Job: ${job.id}`,
      );
      if (merged) {
        // The merge is git's commit, not a row: recorded right after it, before anything else follows.
        await this.#d.database.transaction((tx) =>
          recordAudit(tx, {
            orgId: access.org.id,
            action: "task.merged",
            actor: userActor(access),
            projectId: ctx.projectId,
            target: { type: "task", id: task.id, label: `#${task.number} ${task.title}` },
            data: { taskId: task.id, number: task.number, jobId: job.id, branch, commit: merged.sha },
          }),
        );
      }
      if (merged)
        this.#d.onMerged?.(access.org, ctx.projectId, access.userId, {
          taskId: task.id,
          jobId: job.id,
          commit: merged.sha,
        });
      await this.#d.commands.comment(ctx, task.id, {
        body: `**Approved and merged** into main${merged ? ` (${merged.shortSha})` : " (already there)"}.${body.comment ? `\n\n${body.comment}` : ""}`,
      });
      const statuses = await this.#d.database.tenant(access.org.schemaName, (tx) =>
        listStatuses(tx, ctx.projectId),
      );
      const done = statuses.find((s) => s.group === "completed");
      const current = await this.#d.commands.get(ctx, task.id);
      const moved =
        done && current.statusId !== done.id
          ? await this.#d.commands.move(ctx, task.id, { statusId: done.id })
          : current;
      return { task: moved, merged, jobId: null };
    }
    await this.#d.commands.comment(ctx, task.id, {
      body: `**Changes requested**\n\n${body.comment!.trim()}`,
    });
    const { jobId } = await this.#d.jobs.startJob({
      org: access.org,
      projectId: ctx.projectId,
      taskId: task.id,
      kind: "fix",
      requestedBy: access.userId,
      // The agent the task is assigned to fixes it (the built-in when none is named).
      ...(task.assignee?.type === "agent" && task.assignee.agentId ? { agentId: task.assignee.agentId } : {}),
      instructions: [
        `Task #${task.number}: ${task.title}`,
        task.description.trim(),
        `Your earlier work on this branch was reviewed. Change it as the reviewer asks:\n\n${body.comment!.trim()}`,
      ]
        .filter(Boolean)
        .join("\n\n")
        .slice(0, 20_000),
    });
    return { task: await this.#d.commands.get(ctx, task.id), merged: null, jobId };
  }

  /** The newest finished implement or fix job of the task (reviews do not push work). */
  async #lastWork(access: OrgAccess, projectId: string, taskId: string) {
    const jobs = await this.#d.jobs.list(access.org, { projectId, taskId, limit: 50 });
    return jobs.find((j) => j.kind !== "review" && j.state === "completed");
  }

  async #context(access: OrgAccess, projectRef: string): Promise<BoardContext> {
    const project = await this.#d.projects.get(access, projectRef);
    return {
      org: access.org,
      projectId: project.id,
      actor: { type: "member", userId: access.userId },
      depth: 0,
      requestedBy: access.userId,
    };
  }
}
