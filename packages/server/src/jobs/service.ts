import {
  ACTIVE_JOB_STATES,
  FINAL_JOB_STATES,
  JOB_TOKEN_PREFIX,
  type Job,
  type JobEvent,
  type JobKind,
  type JobState,
  MAX_JOB_INSTRUCTIONS,
  WORKER_CLOSE,
  type Worker,
  type WorkerToken,
} from "@kiln/protocol";
import { and, desc, eq, gt, inArray, isNull, lt, sql } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import type { WebSocket } from "ws";
import { toJobAgent } from "../agents/builtin.ts";
import { pickAgent } from "../agents/service.ts";
import { hashToken } from "../auth/tokens.ts";
import type { Database } from "../db/client.ts";
import { jobs } from "../db/schema-shared.ts";
import { projects } from "../db/schema-tenant.ts";
import { isDatabaseUnavailable, logFailure } from "../db/unavailable.ts";
import { NotFoundError, ValidationError } from "../errors/errors.ts";
import type { OrgRow } from "../orgs/service.ts";
import { looksLikeId } from "../orgs/slug.ts";
import { FanOut } from "../streams/fan-out.ts";
import { WorkerConnection } from "./connection.ts";
import { branchFor, Dispatcher, type JobUrls } from "./dispatcher.ts";
import { WorkerHub } from "./hub.ts";
import { JobQueue, jobNotFound, type QueueOptions } from "./queue.ts";
import { JobSignals } from "./signals.ts";
import { EVENTS_PAGE, eventsAfter, toJob } from "./store.ts";
import type { Transition } from "./transitions.ts";
import { type WorkerCredential, WorkerTokenService } from "./worker-tokens.ts";
import { WorkerRegistry } from "./workers.ts";

export interface JobServiceOptions extends QueueOptions {
  database: Database;
  log: FastifyBaseLogger;
  urls: JobUrls;
  /** `KILN_WORKER_TOKEN`: the instance's own worker token (every org's jobs), for the embedded worker. */
  instanceWorkerToken: string | undefined;
  /** Safety net under the signals: how often a server with free workers looks for jobs anyway. */
  dispatchPollMs?: number;
  /** How often leases, time limits and unanswered cancels are checked; 0 = never (tests sweep by hand). */
  sweepMs: number;
  /** How often an event stream looks at the table when no signal woke it (another replica's job). */
  followPollMs?: number;
}

/** The shape the automation engine depends on (`JobStarter`). */
export interface StartJobContext {
  org: OrgRow;
  projectId: string;
  taskId: string | null;
  kind: JobKind;
  requestedBy: string | null;
  /** What the agent should do; the task's text and review comments belong in here. */
  instructions?: string;
  /** The org's agent the job runs (its current version, recorded with the job); absent: the built-in. */
  agentId?: string | undefined;
}

export interface JobFilter {
  projectId?: string | undefined;
  taskId?: string | undefined;
  state?: JobState | undefined;
  limit?: number | undefined;
}

/** How long a closing worker socket gets to finish its handshake (and, once dropped, its last writes). */
const CLOSE_GRACE_MS = 3_000;

const DEFAULT_INSTRUCTIONS: Record<JobKind, string> = {
  implement: "Implement the task.",
  review: "Review the changes on the branch and report problems.",
  fix: "Fix the problems reported on the branch.",
};

/**
 * AI jobs (ADR 0012): a queue in the shared database, handed to workers over their sockets, with leases,
 * retries and a numbered event log per job. Callers pass the org; permission checks are the caller's.
 */
export class JobService {
  readonly queue: JobQueue;
  readonly tokens: WorkerTokenService;
  readonly #o: JobServiceOptions;
  readonly #registry: WorkerRegistry;
  readonly #signals: JobSignals;
  readonly #dispatcher: Dispatcher;
  readonly #hub: WorkerHub;
  readonly #finishedListeners: Array<(job: Job) => void | Promise<void>> = [];
  readonly #feeds: FanOut<JobEvent>;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #connections = new Set<WorkerConnection>();
  #sweeps = 0;

  constructor(options: JobServiceOptions) {
    this.#o = options;
    this.queue = new JobQueue(options.database, options);
    this.tokens = new WorkerTokenService(options.database, options.instanceWorkerToken);
    this.#registry = new WorkerRegistry(options.database);
    this.#signals = new JobSignals(options.database, options.log);
    this.#feeds = new FanOut({
      page: EVENTS_PAGE,
      pollMs: options.followPollMs ?? 1000,
      transient: isDatabaseUnavailable,
    });
    const published = (t: Transition) => this.#published(t);
    this.#dispatcher = new Dispatcher({ queue: this.queue, log: options.log, urls: options.urls, published });
    this.#hub = new WorkerHub({
      queue: this.queue,
      registry: this.#registry,
      tokens: this.tokens,
      dispatcher: this.#dispatcher,
      signals: this.#signals,
      published,
    });
    this.#signals.on((s) => {
      if (s.t === "queued") void this.#dispatcher.request();
      else if (s.t === "events") this.#wake(s.jobId);
      else if (s.t === "cancel") this.#dispatcher.cancel(s);
      else if (s.t === "revoked") {
        this.#dispatcher.closeWhere((w) => w.tokenId === s.tokenId, WORKER_CLOSE.revoked, "token revoked");
      } else if (s.t === "org-deleted") {
        this.#dispatcher.closeWhere((w) => w.scope.orgId === s.orgId, WORKER_CLOSE.revoked, "org deleted");
      } else if (s.t === "registered") {
        const here = this.#dispatcher.session(s.workerId);
        if (here && here.conn !== s.conn) {
          this.#dispatcher.closeWhere((w) => w === here, WORKER_CLOSE.replaced, "connected again elsewhere");
        }
      }
    });
  }

  async start(): Promise<void> {
    await this.#signals.start();
    const every = (ms: number, fn: () => Promise<unknown>, what: string) => {
      const timer = setInterval(() => {
        fn().catch((err) => logFailure(this.#o.log, err, what));
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    if (this.#o.sweepMs > 0) every(this.#o.sweepMs, () => this.sweep(), "sweeping jobs failed");
    every(this.#o.dispatchPollMs ?? 2000, () => this.#dispatcher.request(), "dispatching jobs failed");
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    await this.#dispatcher.close();
    // Leases survive: the workers reconnect (here after a restart, or to another server) and resume.
    this.#dispatcher.closeWhere(() => true, WORKER_CLOSE.shutdown, "server shutting down");
    await this.#connectionsSettled();
    this.#feeds.close();
    await this.#signals.close();
  }

  /**
   * Waits for every worker socket to close and write its disconnect, so none is written after the database
   * closed; one that does not answer the closing handshake in time is dropped.
   */
  async #connectionsSettled(): Promise<void> {
    const open = [...this.#connections];
    for (const c of open) c.close(WORKER_CLOSE.shutdown, "server shutting down");
    const all = Promise.all(open.map((c) => c.settled));
    const grace = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
    await Promise.race([all, grace(CLOSE_GRACE_MS)]);
    for (const c of this.#connections) c.terminate();
    await Promise.race([all, grace(CLOSE_GRACE_MS)]);
  }

  /** Queues a job for a project of `org`; a connected worker with a free slot gets it at once. */
  async startJob(ctx: StartJobContext): Promise<{ jobId: string }> {
    const instructions = ctx.instructions ?? DEFAULT_INSTRUCTIONS[ctx.kind];
    if (instructions.length > MAX_JOB_INSTRUCTIONS || instructions.includes("\u0000")) {
      throw new ValidationError(
        `instructions must be at most ${MAX_JOB_INSTRUCTIONS} characters, without NUL`,
      );
    }
    const notFound = new NotFoundError("project_not_found", "project not found");
    if (!looksLikeId(ctx.projectId)) throw notFound;
    const { project, agent } = await this.#o.database.tenant(ctx.org.schemaName, async (tx) => {
      const [project] = await tx
        .select({ id: projects.id })
        .from(projects)
        .where(eq(projects.id, ctx.projectId.toLowerCase()));
      if (!project) throw notFound;
      return { project, agent: await pickAgent(tx, ctx.agentId) };
    });
    const t = await this.queue.enqueue({
      orgId: ctx.org.id,
      projectId: project.id,
      taskId: ctx.taskId,
      kind: ctx.kind,
      instructions,
      requestedBy: ctx.requestedBy,
      agent: toJobAgent(agent),
    });
    this.#published(t);
    return { jobId: t.job.id };
  }

  async get(org: OrgRow, jobId: string): Promise<Job> {
    if (!looksLikeId(jobId)) throw jobNotFound();
    const [row] = await this.#o.database.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.id, jobId.toLowerCase()), eq(jobs.orgId, org.id)));
    if (!row) throw jobNotFound();
    return toJob(row);
  }

  /** Newest first. */
  async list(org: OrgRow, filter: JobFilter = {}): Promise<Job[]> {
    if ([filter.projectId, filter.taskId].some((id) => id !== undefined && !looksLikeId(id))) return [];
    const rows = await this.#o.database.db
      .select()
      .from(jobs)
      .where(
        and(
          eq(jobs.orgId, org.id),
          filter.projectId ? eq(jobs.projectId, filter.projectId.toLowerCase()) : undefined,
          filter.taskId ? eq(jobs.taskId, filter.taskId.toLowerCase()) : undefined,
          filter.state ? eq(jobs.state, filter.state) : undefined,
        ),
      )
      .orderBy(desc(jobs.createdAt))
      .limit(Math.min(filter.limit ?? 50, 200));
    return rows.map(toJob);
  }

  /** Cancels a queued job at once; a running one once its worker stops (or stops answering). */
  async cancel(org: OrgRow, jobId: string, by: string | null): Promise<Job> {
    const outcome = await this.queue.requestCancel(org.id, jobId, by);
    if (outcome.changed) this.#published(outcome);
    if (outcome.push) this.#signals.publish({ t: "cancel", ...outcome.push });
    return outcome.job;
  }

  /** Up to 1000 events after `after`; page with the last seq. */
  async events(org: OrgRow, jobId: string, after: number): Promise<JobEvent[]> {
    const job = await this.get(org, jobId);
    return eventsAfter(this.#o.database.db, job.id, after);
  }

  /**
   * Replays a job's events after `after`, then follows them live until the job is over (or `signal`
   * aborts). Every follower of one job on this server shares one poller (streams/fan-out.ts), woken by
   * signals and polling as well, for a job whose worker talks to another server.
   */
  async follow(
    org: OrgRow,
    jobId: string,
    after: number,
    emit: (event: JobEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const { id } = await this.get(org, jobId);
    const db = this.#o.database.db;
    await this.#feeds.follow(
      id,
      {
        read: (from) => eventsAfter(db, id, from),
        status: async () => {
          const [row] = await db
            .select({ state: jobs.state, lastSeq: jobs.lastSeq })
            .from(jobs)
            .where(eq(jobs.id, id));
          return row ? { last: row.lastSeq, over: FINAL_JOB_STATES.includes(row.state as JobState) } : null;
        },
      },
      after,
      emit,
      signal,
    );
  }

  /**
   * For git and the model proxy: the job a `kiln_job_…` token belongs to, while its attempt holds the
   * lease; null otherwise. Scope every request to the returned org and project.
   */
  async verifyJobToken(token: string): Promise<{
    orgId: string;
    projectId: string;
    jobId: string;
    taskId: string | null;
    requestedBy: string | null;
    branch: string;
  } | null> {
    if (typeof token !== "string" || token.length > 200 || !token.startsWith(JOB_TOKEN_PREFIX)) return null;
    const [row] = await this.#o.database.db
      .select({
        orgId: jobs.orgId,
        projectId: jobs.projectId,
        jobId: jobs.id,
        taskId: jobs.taskId,
        requestedBy: jobs.requestedBy,
      })
      .from(jobs)
      .where(
        and(
          eq(jobs.tokenHash, hashToken(token)),
          inArray(jobs.state, ACTIVE_JOB_STATES as JobState[]),
          gt(jobs.leaseExpiresAt, sql`now()`),
        ),
      );
    if (!row) return null;
    return { ...row, branch: branchFor({ id: row.jobId, taskId: row.taskId }) };
  }

  /** Called once per job that ends (completed, failed or cancelled), on the server that ended it. */
  onFinished(listener: (job: Job) => void | Promise<void>): void {
    this.#finishedListeners.push(listener);
  }

  /** Ends attempts whose lease ran out, that ran too long, or whose cancel went unanswered. */
  async sweep(): Promise<number> {
    await this.#recoverOutcomes();
    const swept = await this.queue.sweep();
    for (const t of swept) {
      this.#published(t);
      if (t.push) this.#signals.publish({ t: "cancel", ...t.push });
    }
    if (++this.#sweeps % 100 === 0) await this.#registry.forgetOld();
    return swept.length;
  }

  // ---- workers ----

  authenticateWorker(token: string): Promise<WorkerCredential> {
    return this.tokens.authenticate(token);
  }

  /** Serves a worker's WebSocket. */
  attach(socket: WebSocket, credential: WorkerCredential): WorkerConnection {
    const connection = new WorkerConnection(socket, credential, this.#hub, this.#o.log);
    this.#connections.add(connection);
    void connection.settled.then(() => this.#connections.delete(connection));
    return connection;
  }

  createWorkerToken(org: OrgRow, userId: string, name: string): Promise<WorkerToken & { token: string }> {
    return this.tokens.create(org.id, userId, name);
  }

  listWorkerTokens(org: OrgRow): Promise<WorkerToken[]> {
    return this.tokens.list(org.id);
  }

  /** Revokes a token; its connected workers are cut off (their leases run out, their jobs go back). */
  async revokeWorkerToken(org: OrgRow, tokenId: string, userId: string): Promise<void> {
    await this.tokens.revoke(org.id, tokenId, userId);
    this.#signals.publish({ t: "revoked", tokenId: tokenId.toLowerCase() });
  }

  listWorkers(org: OrgRow): Promise<Worker[]> {
    return this.#registry.list(org.id, this.#o.leaseMs * 2);
  }

  // ---- lifecycle hooks ----

  /** A project is being deleted: its jobs go, and workers running them are told to stop. */
  async forgetProject(orgId: string, projectId: string): Promise<void> {
    for (const push of await this.queue.deleteProject(orgId, projectId)) {
      this.#signals.publish({ t: "cancel", ...push });
      this.#signals.publish({ t: "events", jobId: push.jobId });
    }
  }

  /** An org was deleted (its jobs and tokens with it): its workers are cut off. */
  forgetOrg(orgId: string): void {
    this.#signals.publish({ t: "org-deleted", orgId });
  }

  #published(t: Transition): void {
    if (t.events.length === 0) return;
    this.#signals.publish({ t: "events", jobId: t.job.id });
    for (const { event } of t.events) {
      if (event.type !== "state") continue;
      if (event.state === "queued") this.#signals.publish({ t: "queued" });
      if (FINAL_JOB_STATES.includes(event.state)) this.#finished(t.job);
    }
  }

  /**
   * Applies a finished job's outcome (the listeners: the task's comment and move, …), then records that it
   * did. A server that dies in between leaves the record unset, and `sweep` applies it later.
   */
  #finished(job: Job): void {
    void this.#applyOutcome(job);
  }

  async #applyOutcome(job: Job): Promise<void> {
    for (const listener of this.#finishedListeners) {
      try {
        await listener(job);
      } catch (err) {
        this.#o.log.error({ err, jobId: job.id }, "a job-finished listener failed");
      }
    }
    await this.#o.database.db
      .update(jobs)
      .set({ outcomeAppliedAt: sql`now()` })
      .where(and(eq(jobs.id, job.id), isNull(jobs.outcomeAppliedAt)))
      .catch((err) => this.#o.log.error({ err, jobId: job.id }, "recording a job's outcome failed"));
  }

  /**
   * Finished jobs whose outcome was never recorded as applied — the server that finished them died first.
   * Each is claimed (one replica wins) and applied here; a job is only taken once the server that finished
   * it has had ample time to apply it itself.
   */
  async #recoverOutcomes(): Promise<number> {
    const claimed = await this.#o.database.db
      .update(jobs)
      .set({ outcomeAppliedAt: sql`now()` })
      .where(
        inArray(
          jobs.id,
          this.#o.database.db
            .select({ id: jobs.id })
            .from(jobs)
            .where(
              and(
                isNull(jobs.outcomeAppliedAt),
                // As long as a lease: what this system already takes as "that server is gone".
                lt(jobs.finishedAt, sql`now() - make_interval(secs => ${this.#o.leaseMs / 1000})`),
              ),
            )
            .limit(20),
        ),
      )
      .returning();
    for (const row of claimed) {
      const job = toJob(row);
      this.#o.log.warn({ jobId: job.id }, "applying the outcome of a job whose server stopped first");
      for (const listener of this.#finishedListeners) {
        try {
          await listener(job);
        } catch (err) {
          this.#o.log.error({ err, jobId: job.id }, "a job-finished listener failed");
        }
      }
    }
    return claimed.length;
  }

  #wake(jobId: string): void {
    this.#feeds.wake(jobId);
  }
}
