import type { Job } from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import type { Database } from "../../db/client.ts";
import type { OrgService } from "../../orgs/service.ts";
import { listStatuses } from "../workflows/store.ts";
import type { BoardContext, TaskCommands } from "./commands.ts";

/**
 * What a finished job does to its task: an implemented (or fixed) task moves to the workflow's review
 * column with the agent's summary as a comment — which, with the default rules, starts the review job —,
 * a review's findings become a comment, and a failure is said in a comment. The agent acts as itself.
 */
export function onJobFinished(d: {
  database: Database;
  orgs: OrgService;
  commands: TaskCommands;
  log: FastifyBaseLogger;
}): (job: Job) => Promise<void> {
  return async (job) => {
    if (!job.taskId) return;
    try {
      const org = await d.orgs.row(job.orgId);
      const ctx: BoardContext = {
        org,
        projectId: job.projectId,
        actor: { type: "agent", jobId: job.id },
        depth: 0,
        requestedBy: job.requestedBy,
      };
      if (job.state === "completed" && job.result) {
        const where = job.result.branch ? `\n\nBranch: \`${job.result.branch}\`` : "";
        const title =
          job.kind === "review" ? "**Review**" : `**${job.kind === "fix" ? "Fix" : "Implementation"} done**`;
        await d.commands.comment(ctx, job.taskId, {
          body: `${title}\n\n${job.result.summary}${where}`.slice(0, 20_000),
        });
        if (job.kind === "review") return;
        const statuses = await d.database.tenant(org.schemaName, (tx) => listStatuses(tx, job.projectId));
        const review = statuses.find((s) => s.group === "review");
        const task = await d.commands.get(ctx, job.taskId);
        if (review && task.statusId !== review.id)
          await d.commands.move(ctx, job.taskId, { statusId: review.id });
      } else if (job.state === "failed") {
        const why = job.failure ? `${job.failure.code}: ${job.failure.message}` : "unknown reason";
        await d.commands.comment(ctx, job.taskId, {
          body: `**The ${job.kind} job failed** (${why})`.slice(0, 20_000),
        });
      }
    } catch (err) {
      // The task may be gone or moved somewhere the workflow forbids leaving; the job's result stays.
      d.log.warn({ err, jobId: job.id, taskId: job.taskId }, "could not update the task of a finished job");
    }
  };
}
