import type { Job, NotificationKind } from "@kiln/protocol";
import { and, eq, isNull } from "drizzle-orm";
import type { TaskEventListener } from "../board/tasks/commands.ts";
import type { Database } from "../db/client.ts";
import { memberships, users } from "../db/schema-shared.ts";
import { deployments, projects, taskComments, tasks } from "../db/schema-tenant.ts";
import type { OrgEvents } from "../orgs/events.ts";
import type { OrgRow, OrgService } from "../orgs/service.ts";
import { resolveMentions } from "./mentions.ts";
import type { NotificationService, NotifyInput } from "./service.ts";

interface Log {
  warn(obj: object, msg: string): void;
}

/**
 * What sets notifications off (ADR 0032): the board's task events, finished jobs and the org's events
 * (deployments, members). Each runs after the change committed; a failure is logged, never the change's.
 */
export function notificationTriggers(d: {
  database: Database;
  orgs: OrgService;
  notifications: NotificationService;
  log: Log;
}) {
  const send = (userIds: Iterable<string>, kind: NotificationKind, input: NotifyInput) =>
    d.notifications.notify(userIds, kind, input);

  const projectSlug = async (org: OrgRow, projectId: string) => {
    const [p] = await d.database.tenant(org.schemaName, (tx) =>
      tx
        .select({ slug: projects.slug, name: projects.name })
        .from(projects)
        .where(eq(projects.id, projectId)),
    );
    return p ?? { slug: projectId, name: "a project" };
  };

  const members = (orgId: string) =>
    d.database.db
      .select({ userId: users.id, name: users.name, email: users.email, role: memberships.role })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.orgId, orgId), isNull(users.deletedAt)));

  const onTaskEvents: TaskEventListener = async (ctx, happened) => {
    const actorId = ctx.actor.type === "member" ? ctx.actor.userId : null;
    for (const e of happened) {
      if (e.type !== "task_assigned" && e.type !== "task_commented") continue;
      try {
        const [task] = await d.database.tenant(ctx.org.schemaName, (tx) =>
          tx.select().from(tasks).where(eq(tasks.id, e.taskId)),
        );
        if (!task) continue;
        const project = await projectSlug(ctx.org, ctx.projectId);
        const link = `/${ctx.org.slug}/${project.slug}?view=board`;
        const label = `#${task.number} ${task.title}`;
        if (e.type === "task_assigned" && task.assigneeType === "member" && task.assigneeUserId) {
          await send([task.assigneeUserId], "task_assigned", {
            orgId: ctx.org.id,
            title: `You were assigned ${label}`,
            body: `In ${project.name}`,
            link,
            actorId,
          });
        } else if (e.type === "task_commented") {
          const [comment] = await d.database.tenant(ctx.org.schemaName, (tx) =>
            tx.select().from(taskComments).where(eq(taskComments.id, e.commentId)),
          );
          if (!comment) continue;
          const mentioned = resolveMentions(comment.body, await members(ctx.org.id));
          await send(mentioned, "mention", {
            orgId: ctx.org.id,
            title: `You were mentioned on ${label}`,
            body: comment.body.slice(0, 280),
            link,
            actorId,
          });
        }
      } catch (err) {
        d.log.warn({ err, taskId: e.taskId }, "a task notification was not sent");
      }
    }
  };

  /** job_finished to its requester; review_waiting when an agent's work on a task waits for review. */
  const onJobFinished = async (job: Job): Promise<void> => {
    if (job.state !== "completed" && job.state !== "failed") return;
    try {
      const org = await d.orgs.row(job.orgId);
      const project = await projectSlug(org, job.projectId);
      const boardLink = `/${org.slug}/${project.slug}?view=board`;
      let reviewer: string | null = null;
      if (job.state === "completed" && job.result?.branch && job.taskId && job.kind !== "review") {
        const [task] = await d.database.tenant(org.schemaName, (tx) =>
          tx.select().from(tasks).where(eq(tasks.id, job.taskId!)),
        );
        if (task) {
          reviewer =
            task.assigneeType === "member" && task.assigneeUserId ? task.assigneeUserId : job.requestedBy;
          if (reviewer)
            await send([reviewer], "review_waiting", {
              orgId: org.id,
              title: `Review waiting: #${task.number} ${task.title}`,
              body: `Branch ${job.result.branch} in ${project.name}`,
              link: boardLink,
            });
        }
      }
      // The requester who was just told to review hears nothing more about the same job.
      if (job.requestedBy && job.requestedBy !== reviewer) {
        const how = job.state === "completed" ? "finished" : "failed";
        await send([job.requestedBy], "job_finished", {
          orgId: org.id,
          title: `The ${job.kind} job ${how}`,
          body: job.failure ? `${job.failure.code}: ${job.failure.message}` : `In ${project.name}`,
          link: job.taskId ? boardLink : `/${org.slug}/${project.slug}`,
        });
      }
    } catch (err) {
      d.log.warn({ err, jobId: job.id }, "a job notification was not sent");
    }
  };

  const onOrgEvent = async (orgId: string, event: string, projectId: string | null, data: object) => {
    if (event === "deployment.finished" && projectId) {
      const deployment = (data as { deployment?: { id?: string; status?: string; error?: string | null } })
        .deployment;
      if (!deployment?.id) return;
      const org = await d.orgs.row(orgId);
      const [row] = await d.database.tenant(org.schemaName, (tx) =>
        tx
          .select({ createdBy: deployments.createdBy })
          .from(deployments)
          .where(eq(deployments.id, deployment.id!)),
      );
      if (!row?.createdBy) return;
      const project = await projectSlug(org, projectId);
      await send([row.createdBy], "deployment_finished", {
        orgId,
        title: `Deployment of ${project.name} ${deployment.status === "ready" ? "is live" : "failed"}`,
        body: deployment.error ?? "",
        link: `/${org.slug}/${project.slug}`,
      });
    } else if (event === "member.joined") {
      const joined = (data as { member?: { userId?: string } }).member?.userId;
      if (!joined) return;
      const org = await d.orgs.row(orgId);
      const all = await members(orgId);
      const who = all.find((m) => m.userId === joined);
      const admins = all.filter((m) => m.role === "owner" || m.role === "admin").map((m) => m.userId);
      await send(admins, "member_joined", {
        orgId,
        title: `${who?.name ?? "Someone"} joined ${org.name}`,
        body: who?.email ?? "",
        link: `/${org.slug}/settings`,
        actorId: joined,
      });
    }
  };

  const events: OrgEvents = {
    emit(orgId, event, projectId, data) {
      void onOrgEvent(orgId, event, projectId, data).catch((err) =>
        d.log.warn({ err, orgId, event }, "an org notification was not sent"),
      );
    },
  };

  return { onTaskEvents, onJobFinished, events };
}
