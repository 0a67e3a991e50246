import type { Job, WorkerServerMessage } from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import { logFailure } from "../db/unavailable.ts";
import type { CancelPush, Claimed, JobQueue, WorkerScope } from "./queue.ts";
import type { Transition } from "./transitions.ts";

/** A registered worker connection on this server. */
export interface WorkerSession {
  /** This connection's id (a worker that reconnects gets a new one, keeping its worker id). */
  readonly conn: string;
  readonly scope: WorkerScope;
  readonly tokenId: string | null;
  readonly concurrency: number;
  send(message: WorkerServerMessage): void;
  close(code: number, reason: string): void;
}

export interface JobUrls {
  /** Git smart HTTP URL of the job's project (the worker clones and pushes there with its job token). */
  repo(job: Job): string;
  /** Base URL of the model proxy (`/v1/chat/completions`, `/v1/messages`). */
  modelProxy: string;
}

export function branchFor(job: Pick<Job, "id" | "taskId">): string {
  return job.taskId ? `kiln/task-${job.taskId}` : `kiln/job-${job.id}`;
}

export function jobMessage(claimed: Claimed, urls: JobUrls, leaseMs: number): WorkerServerMessage {
  return {
    type: "job",
    job: claimed.job,
    attempt: claimed.attempt,
    leaseMs,
    branch: branchFor(claimed.job),
    repoUrl: urls.repo(claimed.job),
    modelProxyUrl: urls.modelProxy,
    jobToken: claimed.jobToken,
    ...(claimed.agent ? { agent: claimed.agent } : {}),
  };
}

/**
 * Pushes queued jobs to the workers connected here that have free slots, one job per worker per round so
 * work spreads across workers. Pumps are serialised and coalesced: a burst of wake-ups (enqueues,
 * completions, signals from other servers) costs one more round, not one each.
 */
export class Dispatcher {
  readonly #sessions = new Map<string, WorkerSession>();
  readonly #queue: JobQueue;
  readonly #log: FastifyBaseLogger;
  readonly #urls: JobUrls;
  readonly #published: (t: Transition) => void;
  #pumping: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(deps: {
    queue: JobQueue;
    log: FastifyBaseLogger;
    urls: JobUrls;
    published: (t: Transition) => void;
  }) {
    this.#queue = deps.queue;
    this.#log = deps.log;
    this.#urls = deps.urls;
    this.#published = deps.published;
  }

  get size(): number {
    return this.#sessions.size;
  }

  session(workerId: string): WorkerSession | undefined {
    return this.#sessions.get(workerId);
  }

  /** Adds a registered worker; an older connection of the same worker here is closed with `replaced`. */
  add(session: WorkerSession, replacedCode: number): void {
    const old = this.#sessions.get(session.scope.workerId);
    if (old && old.conn !== session.conn) old.close(replacedCode, "this worker connected again");
    this.#sessions.set(session.scope.workerId, session);
    this.request();
  }

  remove(session: WorkerSession): void {
    if (this.#sessions.get(session.scope.workerId)?.conn === session.conn) {
      this.#sessions.delete(session.scope.workerId);
    }
  }

  /** Tells a worker connected here to stop an attempt; a worker connected elsewhere is told there. */
  cancel(push: CancelPush): void {
    this.#sessions.get(push.workerId)?.send({
      type: "cancel",
      jobId: push.jobId,
      attempt: push.attempt,
      reason: push.reason,
    });
  }

  closeWhere(match: (s: WorkerSession) => boolean, code: number, reason: string): void {
    for (const s of [...this.#sessions.values()]) {
      if (!match(s)) continue;
      this.#sessions.delete(s.scope.workerId);
      s.close(code, reason);
    }
  }

  /** Asks for a pump; returns when one that started after this call has finished. */
  request(): Promise<void> {
    if (this.#closed || this.#sessions.size === 0) return Promise.resolve();
    if (this.#pumping) {
      this.#again = true;
      return this.#pumping;
    }
    this.#pumping = (async () => {
      try {
        do {
          this.#again = false;
          await this.#pump();
        } while (this.#again && !this.#closed);
      } catch (err) {
        logFailure(this.#log, err, "dispatching jobs failed");
      } finally {
        this.#pumping = undefined;
      }
    })();
    return this.#pumping;
  }

  async #pump(): Promise<void> {
    const free = new Map<WorkerSession, number>();
    for (const s of this.#sessions.values()) {
      const n = s.concurrency - (await this.#queue.activeCount(s.scope.workerId));
      if (n > 0) free.set(s, n);
    }
    while (free.size > 0 && !this.#closed) {
      let handedOut = 0;
      for (const [s, n] of [...free]) {
        if (this.#sessions.get(s.scope.workerId) !== s) {
          free.delete(s);
          continue;
        }
        const [claimed] = await this.#queue.claim(s.scope, 1);
        if (!claimed) {
          free.delete(s);
          continue;
        }
        handedOut++;
        this.#published(claimed);
        // A socket that closed meanwhile never sees it; the lease runs out, or the worker resumes.
        s.send(jobMessage(claimed, this.#urls, this.#queue.options.leaseMs));
        if (n > 1) free.set(s, n - 1);
        else free.delete(s);
      }
      if (handedOut === 0) break;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#pumping;
  }
}
