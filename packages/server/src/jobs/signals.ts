import { CancelReason } from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import { z } from "zod";
import type { Database } from "../db/client.ts";
import { NotifyChannel } from "../db/notify-channel.ts";

/** What one server tells the others (and itself) about jobs. */
const JobSignal = z.discriminatedUnion("t", [
  z.object({ t: z.literal("queued") }),
  z.object({ t: z.literal("events"), jobId: z.string() }),
  z.object({
    t: z.literal("cancel"),
    workerId: z.string(),
    jobId: z.string(),
    attempt: z.number(),
    reason: CancelReason,
  }),
  z.object({ t: z.literal("revoked"), tokenId: z.string() }),
  z.object({ t: z.literal("org-deleted"), orgId: z.string() }),
  /** A worker registered on connection `conn`: any other connection of the same worker is stale. */
  z.object({ t: z.literal("registered"), workerId: z.string(), conn: z.string() }),
]);
export type JobSignal = z.infer<typeof JobSignal>;

/**
 * Wakes whoever waits on jobs, in this process and in every other replica (db/notify-channel.ts). A lost
 * notification costs latency, never correctness: the dispatcher and event followers also poll, and after
 * a reconnect everyone is told to look for queued work again.
 */
export class JobSignals extends NotifyChannel<JobSignal> {
  constructor(database: Database, log: FastifyBaseLogger) {
    super(database, log, {
      channel: "kiln_jobs",
      schema: JobSignal,
      onListening: () => this.publishLocally({ t: "queued" }),
    });
  }
}
