import {
  type JobFailureCode,
  type JobResult,
  WORKER_CLOSE,
  WORKER_PROTOCOL_VERSION,
  type WorkerClientMessage,
  type WorkerJobEvent,
  type WorkerServerMessage,
} from "@kiln/protocol";
import { UnauthenticatedError } from "../errors/errors.ts";
import type { Dispatcher, WorkerSession } from "./dispatcher.ts";
import type { JobQueue, Outcome } from "./queue.ts";
import type { JobSignals } from "./signals.ts";
import type { Transition } from "./transitions.ts";
import type { WorkerCredential, WorkerTokenService } from "./worker-tokens.ts";
import type { WorkerRegistry } from "./workers.ts";

type Register = Extract<WorkerClientMessage, { type: "register" }>;

/** The socket side of a connection, as the hub needs it. */
export interface WorkerLink {
  readonly conn: string;
  send(message: WorkerServerMessage): void;
  close(code: number, reason: string): void;
}

export interface RegisteredWorker extends WorkerSession {
  /** The database's time of registration; a late disconnect of an older connection must not undo it. */
  readonly since: Date;
}

export interface HubDeps {
  queue: JobQueue;
  registry: WorkerRegistry;
  tokens: WorkerTokenService;
  dispatcher: Dispatcher;
  signals: JobSignals;
  /** Called with every committed change, to publish its events and wake whoever waits. */
  published: (t: Transition) => void;
}

/** What workers ask of the server, one method per protocol message; the connection only parses. */
export class WorkerHub {
  readonly #d: HubDeps;

  constructor(deps: HubDeps) {
    this.#d = deps;
  }

  async register(link: WorkerLink, credential: WorkerCredential, m: Register): Promise<RegisteredWorker> {
    const { queue, registry, dispatcher, signals } = this.#d;
    // The token may have been revoked since this socket opened; a revoke only reaches registered workers.
    if (!(await this.#d.tokens.isValid(credential))) {
      link.close(WORKER_CLOSE.revoked, "token revoked");
      throw new UnauthenticatedError("token_invalid", "worker token is not valid");
    }
    const { workerId, resumed, since } = await registry.register(credential, m);
    // A worker from before agents would run an org agent's job with the built-in's tools: it gets none.
    const scope = { workerId, orgId: credential.orgId, runsAgents: (m.protocol ?? 1) >= 2 };
    const listed = new Map(m.jobs.map((j) => [j.jobId.toLowerCase(), j.attempt]));
    const held = resumed ? await queue.held(workerId) : [];
    const kept = held.filter((job) => listed.get(job.id) === job.attempt);
    for (const job of held.filter((j) => !kept.includes(j))) {
      const t = await queue.release(scope, job.id);
      if (t) this.#d.published(t);
    }
    const { transitions } = await queue.heartbeat(
      scope,
      kept.map((j) => j.id),
    );
    for (const t of transitions) this.#d.published(t);
    const now = new Map(transitions.map((t) => [t.job.id, t.job]));
    const leaseMs = queue.options.leaseMs;
    link.send({
      type: "registered",
      workerId,
      protocol: WORKER_PROTOCOL_VERSION,
      leaseMs,
      heartbeatMs: Math.floor(leaseMs / 3),
      jobs: kept.map((j) => {
        const job = now.get(j.id) ?? j;
        return {
          jobId: job.id,
          attempt: job.attempt,
          state: job.state,
          cancelRequested: job.cancelRequested,
        };
      }),
    });
    // Listed jobs it no longer holds are simply not in `jobs`; a worker still running one is told at its
    // next heartbeat (lease_lost). A job it completed while away is not one to stop: its repeated
    // complete is acknowledged.
    for (const job of kept) {
      if (job.cancelRequested)
        link.send({ type: "cancel", jobId: job.id, attempt: job.attempt, reason: "requested" });
    }
    const session: RegisteredWorker = {
      conn: link.conn,
      scope,
      tokenId: credential.tokenId,
      concurrency: m.concurrency,
      since,
      send: (message) => link.send(message),
      close: (code, reason) => link.close(code, reason),
    };
    dispatcher.add(session, WORKER_CLOSE.replaced);
    signals.publish({ t: "registered", workerId, conn: link.conn });
    return session;
  }

  async heartbeat(session: RegisteredWorker, jobIds: string[]): Promise<void> {
    const { transitions, cancels } = await this.#d.queue.heartbeat(session.scope, jobIds);
    for (const t of transitions) this.#d.published(t);
    for (const c of cancels)
      session.send({ type: "cancel", jobId: c.jobId, attempt: c.attempt, reason: c.reason });
    await this.#d.registry.touch(session.scope.workerId);
  }

  async record(
    session: RegisteredWorker,
    jobId: string,
    attempt: number,
    events: WorkerJobEvent[],
  ): Promise<void> {
    this.#d.published(await this.#d.queue.record(session.scope, jobId, attempt, events));
  }

  async complete(
    session: RegisteredWorker,
    jobId: string,
    attempt: number,
    result: JobResult,
  ): Promise<void> {
    const outcome = await this.#d.queue.complete(session.scope, jobId, attempt, result);
    this.#ended(session, "complete", attempt, outcome);
  }

  async fail(
    session: RegisteredWorker,
    jobId: string,
    attempt: number,
    code: JobFailureCode,
    message: string,
  ): Promise<void> {
    const outcome = await this.#d.queue.fail(session.scope, jobId, attempt, code, message);
    this.#ended(session, "fail", attempt, outcome);
  }

  async cancelAck(session: RegisteredWorker, jobId: string, attempt: number): Promise<void> {
    const outcome = await this.#d.queue.cancelAck(session.scope, jobId, attempt);
    this.#ended(session, "cancel-ack", attempt, outcome);
  }

  claim(): void {
    void this.#d.dispatcher.request();
  }

  async disconnect(session: RegisteredWorker): Promise<void> {
    this.#d.dispatcher.remove(session);
    await this.#d.registry.disconnect(session.scope.workerId, session.since);
  }

  #ended(
    session: RegisteredWorker,
    of: "complete" | "fail" | "cancel-ack",
    attempt: number,
    o: Outcome,
  ): void {
    if (o.changed) this.#d.published(o);
    session.send({ type: "ack", of, jobId: o.job.id, attempt, state: o.job.state });
    // A slot is free again.
    void this.#d.dispatcher.request();
  }
}
