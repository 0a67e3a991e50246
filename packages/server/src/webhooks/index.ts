import { readFileSync } from "node:fs";
import { type AddressPolicy, createEgressFetch } from "@kiln/agent";
import type { Job } from "@kiln/protocol";
import type { TaskEventListener } from "../board/tasks/commands.ts";
import type { KilnConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { OrgEvents } from "../orgs/events.ts";
import type { OrgService } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { SecretBox } from "../secrets/secret-box.ts";
import { WebhookDispatcher } from "./dispatcher.ts";
import { WebhookService } from "./service.ts";

export { webhookRoutes } from "./routes.ts";
export { WebhookService } from "./service.ts";

/** The org's webhooks and the one dispatcher that delivers them (ADR 0027). */
export function createWebhooks(deps: {
  database: Database;
  secrets: SecretBox;
  egress: AddressPolicy;
  projects: ProjectService;
  orgs: OrgService;
  config: Pick<KilnConfig, "extraCaFile" | "webhooks">;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}) {
  const service = new WebhookService(deps);
  const ca = deps.config.extraCaFile ? readFileSync(deps.config.extraCaFile, "utf8") : undefined;
  const dispatcher = new WebhookDispatcher({
    database: deps.database,
    secrets: deps.secrets,
    // Redirects are not followed (a 3xx is a failed attempt), so no hop can leave the policy either.
    fetch: createEgressFetch(deps.egress, { maxRedirects: 0, ...(ca ? { ca } : {}) }),
    log: deps.log,
    retryBaseMs: deps.config.webhooks.retryBaseMs,
    maxAttempts: deps.config.webhooks.maxAttempts,
  });
  service.onQueued = () => dispatcher.wake();

  /** `job.finished`, for jobs.onFinished: at least once, like every job outcome. */
  const onJobFinished = async (job: Job): Promise<void> => {
    const org = await deps.orgs.row(job.orgId);
    await service.emit(org, "job.finished", job.projectId, {
      job: {
        id: job.id,
        taskId: job.taskId,
        kind: job.kind,
        state: job.state,
        attempt: job.attempt,
        failure: job.failure,
        finishedAt: job.finishedAt,
      },
    });
  };
  /** For services that tell what happened in an org (members, invitations): queued in the background. */
  const events: OrgEvents = {
    emit(orgId, event, projectId, data) {
      void deps.orgs
        .row(orgId)
        .then((org) => service.emit(org, event, projectId, data))
        .catch((err) => deps.log.warn({ err, orgId, event }, "a webhook event could not be queued"));
    },
  };

  /** The task board's events (board/tasks/commands.ts): `task.created` and `task.moved`. */
  const onTaskEvents: TaskEventListener = async (ctx, happened) => {
    for (const e of happened) {
      const event =
        e.type === "task_created" ? "task.created" : e.type === "task_moved" ? "task.moved" : undefined;
      if (!event) continue;
      const data =
        e.type === "task_moved"
          ? { taskId: e.taskId, fromStatusId: e.fromStatus, toStatusId: e.toStatus }
          : { taskId: e.taskId };
      await service.emit(ctx.org, event, ctx.projectId, { ...data, actor: ctx.actor });
    }
  };
  return { service, dispatcher, events, onJobFinished, onTaskEvents };
}
