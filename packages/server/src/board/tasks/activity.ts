import type { TaskActivity, TaskActivityKind, TaskActor } from "@kiln/protocol";
import { and, asc, eq, gt } from "drizzle-orm";
import type { Executor } from "../../db/client.ts";
import { taskActivity } from "../../db/schema-tenant.ts";
import { actorColumns, actorOf } from "./store.ts";

/** The task's activity log: every change, who made it (a person, an agent, a rule at a depth), from → to. */

export interface ActivityEntry {
  kind: TaskActivityKind;
  from?: unknown;
  to?: unknown;
  message?: string;
}

export async function recordActivity(
  tx: Executor,
  taskId: string,
  actor: TaskActor,
  entries: ActivityEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  const who = actorColumns(actor);
  // One statement keeps the entries in the order given: the sequence numbers them as they are listed.
  await tx.insert(taskActivity).values(
    entries.map((e) => ({
      taskId,
      actorType: who.type,
      actorUserId: who.userId,
      actorRef: who.ref,
      depth: who.depth,
      kind: e.kind,
      fromValue: e.from ?? null,
      toValue: e.to ?? null,
      message: e.message ?? null,
    })),
  );
}

export async function listActivity(
  tx: Executor,
  taskId: string,
  after: number,
  limit: number,
): Promise<TaskActivity[]> {
  const rows = await tx
    .select()
    .from(taskActivity)
    .where(and(eq(taskActivity.taskId, taskId), gt(taskActivity.id, after)))
    .orderBy(asc(taskActivity.id))
    .limit(limit);
  return rows.map((r) => ({
    id: r.id,
    taskId: r.taskId,
    actor: actorOf(r.actorType, r.actorUserId, r.actorRef, r.depth),
    kind: r.kind as TaskActivityKind,
    from: r.fromValue,
    to: r.toValue,
    message: r.message,
    createdAt: r.createdAt.toISOString(),
  }));
}
