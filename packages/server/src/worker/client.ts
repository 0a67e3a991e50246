import { hostname } from "node:os";
import {
  WORKER_CLOSE,
  WORKER_PROTOCOL_VERSION,
  type WorkerClientMessage,
  type WorkerJobEvent,
  WorkerServerMessage,
} from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import { WebSocket } from "ws";
import type { SandboxDriver } from "../sandbox/driver.ts";
import { VERSION } from "../version.ts";
import { type JobAssignment, type JobOutcome, runJob } from "./job-runner.ts";

export interface WorkerOptions {
  /** The Kiln server, e.g. http://kiln.internal:4000 */
  server: string;
  token: string;
  concurrency: number;
  name?: string;
  driver: SandboxDriver;
  workDir: string;
  log: FastifyBaseLogger;
  maxSteps?: number;
}

interface Running {
  assignment: JobAssignment;
  controller: AbortController;
  /** The attempt's final word, kept until the server acknowledges it (resent after a reconnect). */
  outcome?: JobOutcome;
  cancelled?: boolean;
  /** The server ended this attempt itself (lease lost, timed out, job deleted): stopped, never reported on. */
  dropped?: boolean;
  /** Events made while the connection was down, sent in order once it is back. */
  pending: WorkerJobEvent[];
  /** Events dropped from `pending` because it was full (a long outage); said in the log once sent. */
  lost: number;
}

/** Events kept per job while the connection is down; older ones give way past it. */
const PENDING_EVENTS = 2_000;

/** Answers to a final report that no resend will change: the server has moved on from that attempt. */
const REFUSED_FOR_GOOD = new Set(["stale_attempt", "job_not_active", "job_not_found"]);

const BACKOFF_MS = [250, 500, 1000, 2000, 5000];

/**
 * `kiln worker`: holds one WebSocket to the server, takes jobs as slots free up, runs each with
 * `runJob`, heartbeats their leases and reports. A dropped connection is re-dialled with the same worker
 * id and the jobs still running, so their leases survive; final reports are resent until acknowledged
 * (the server makes them idempotent per attempt) or refused for good. An attempt the server ended on its
 * own — lease lost while away, time limit, job deleted — is stopped without a word: nobody waits for one.
 */
export class KilnWorker {
  readonly #o: WorkerOptions;
  readonly #jobs = new Map<string, Running>();
  #socket: WebSocket | undefined;
  #workerId: string | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #redial: NodeJS.Timeout | undefined;
  #stopped = false;
  #failures = 0;
  #connected: (() => void) | undefined;
  /** Registered on the current connection: messages about jobs may go out. */
  #registered = false;

  constructor(options: WorkerOptions) {
    this.#o = options;
  }

  get workerId(): string | undefined {
    return this.#workerId;
  }

  get running(): number {
    return this.#jobs.size;
  }

  /** Connects (and keeps reconnecting); resolves once registered the first time. */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.#connected = resolve;
      this.#connect();
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#redial);
    // Running jobs are abandoned: their leases expire and the server hands them to another worker.
    for (const job of this.#jobs.values()) job.controller.abort();
    this.#socket?.close(1000);
  }

  #connect(): void {
    if (this.#stopped) return;
    const url = `${this.#o.server.replace(/^http/, "ws").replace(/\/$/, "")}/api/workers/socket`;
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${this.#o.token}` } });
    this.#socket = socket;
    socket.on("open", () => {
      this.#send({
        type: "register",
        name: this.#o.name ?? `${hostname()}-${process.pid}`,
        concurrency: this.#o.concurrency,
        version: VERSION,
        protocol: WORKER_PROTOCOL_VERSION,
        ...(this.#workerId ? { workerId: this.#workerId } : {}),
        jobs: [...this.#jobs.values()].map((j) => ({
          jobId: j.assignment.job.id,
          attempt: j.assignment.attempt,
        })),
      });
    });
    socket.on("message", (data) => this.#onMessage(String(data)));
    socket.on("close", (code) => {
      clearInterval(this.#heartbeat);
      if (this.#socket === socket) this.#registered = false;
      if (this.#socket === socket) this.#socket = undefined;
      if (this.#stopped) return;
      if (code === WORKER_CLOSE.revoked) {
        this.#o.log.error("the worker token was revoked; stopping");
        void this.stop();
        return;
      }
      const delay = BACKOFF_MS[Math.min(this.#failures++, BACKOFF_MS.length - 1)]!;
      this.#o.log.warn({ code, delay }, "connection to the server lost; reconnecting");
      // Not unref'd: a worker waiting to reconnect must stay alive.
      this.#redial = setTimeout(() => this.#connect(), delay);
    });
    socket.on("error", (err) => this.#o.log.warn({ err: err.message }, "worker socket error"));
  }

  #onMessage(raw: string): void {
    let parsed: WorkerServerMessage;
    try {
      parsed = WorkerServerMessage.parse(JSON.parse(raw));
    } catch {
      this.#o.log.warn("unreadable message from the server");
      return;
    }
    switch (parsed.type) {
      case "registered": {
        this.#workerId = parsed.workerId;
        this.#failures = 0;
        clearInterval(this.#heartbeat);
        this.#heartbeat = setInterval(() => this.#beat(), Math.max(250, parsed.heartbeatMs));
        // Attempts the server no longer gives this worker (it ended them while the worker was away) are
        // stopped without a word; finished ones are reported again — the server may have missed it.
        // What a held job logged meanwhile goes first, in order: the board shows the whole run. What an
        // attempt the server has moved on from logged is dropped: the server would refuse every line of it.
        this.#registered = true;
        const held = new Set(parsed.jobs.map((j) => `${j.jobId}:${j.attempt}`));
        for (const job of [...this.#jobs.values()]) {
          const current = held.has(`${job.assignment.job.id}:${job.assignment.attempt}`);
          if (current) this.#flush(job);
          else {
            job.pending.length = 0;
            job.lost = 0;
          }
          if (job.outcome) this.#report(job);
          else if (!current) this.#drop(job);
        }
        this.#beat();
        this.#send({ type: "claim" });
        this.#connected?.();
        this.#connected = undefined;
        return;
      }
      case "job":
        this.#take({
          job: parsed.job,
          attempt: parsed.attempt,
          branch: parsed.branch,
          repoUrl: parsed.repoUrl,
          modelProxyUrl: parsed.modelProxyUrl,
          jobToken: parsed.jobToken,
          ...(parsed.agent ? { agent: parsed.agent } : {}),
        });
        return;
      case "cancel": {
        const job = this.#jobs.get(parsed.jobId);
        if (parsed.reason !== "requested") {
          // The server has ended that attempt itself and waits for no answer; `attempt` is the job's
          // latest, so an older attempt running here is over too.
          if (
            job &&
            !job.outcome &&
            (parsed.reason === "deleted" || job.assignment.attempt <= parsed.attempt)
          )
            this.#drop(job);
          return;
        }
        if (!job || job.assignment.attempt !== parsed.attempt) {
          this.#send({ type: "cancel-ack", jobId: parsed.jobId, attempt: parsed.attempt });
          return;
        }
        job.cancelled = true;
        job.controller.abort();
        return;
      }
      case "ack": {
        const job = this.#jobs.get(parsed.jobId);
        if (job) this.#forget(job);
        return;
      }
      case "error": {
        this.#o.log.warn({ code: parsed.code, ref: parsed.ref }, parsed.message);
        // A final report refused for good (that attempt lost the job while this worker was away) is not
        // kept for resending: the job went back to the queue, or is done.
        const job = parsed.ref?.jobId ? this.#jobs.get(parsed.ref.jobId) : undefined;
        const report = ["complete", "fail", "cancel-ack"].includes(parsed.ref?.type ?? "");
        if (job?.outcome && report && REFUSED_FOR_GOOD.has(parsed.code)) this.#forget(job);
        return;
      }
    }
  }

  #take(assignment: JobAssignment): void {
    const controller = new AbortController();
    const running: Running = { assignment, controller, pending: [], lost: 0 };
    this.#jobs.set(assignment.job.id, running);
    // The first heartbeat naming a dispatched job marks it running.
    this.#beat();
    const { job, attempt } = assignment;
    this.#o.log.info({ jobId: job.id, kind: job.kind, attempt }, "job started");
    void runJob(assignment, {
      driver: this.#o.driver,
      workDir: this.#o.workDir,
      signal: controller.signal,
      ...(this.#o.maxSteps ? { maxSteps: this.#o.maxSteps } : {}),
      emit: (event) => {
        if (running.dropped) return;
        if (this.#online()) this.#send({ type: "job-event", jobId: job.id, attempt, event });
        else {
          running.pending.push(event);
          if (running.pending.length > PENDING_EVENTS) {
            running.pending.shift();
            running.lost++;
          }
        }
      },
    }).then((outcome) => {
      if (running.dropped) return;
      running.outcome = outcome;
      this.#o.log.info({ jobId: job.id, ok: outcome.ok }, "job finished");
      this.#report(running);
    });
  }

  /** Stops an attempt the server has ended; its slot is free at once. */
  #drop(job: Running): void {
    job.dropped = true;
    job.controller.abort();
    this.#o.log.warn(
      { jobId: job.assignment.job.id, attempt: job.assignment.attempt },
      "job given up by the server",
    );
    this.#forget(job);
  }

  #forget(job: Running): void {
    const id = job.assignment.job.id;
    if (this.#jobs.get(id) !== job) return;
    this.#jobs.delete(id);
    if (this.#jobs.size < this.#o.concurrency) this.#send({ type: "claim" });
  }

  /** Sends what a job logged while the connection was down. */
  #flush(job: Running): void {
    const { id } = job.assignment.job;
    const attempt = job.assignment.attempt;
    if (job.lost > 0) {
      const message = `${job.lost} earlier events were lost while the worker was disconnected`;
      this.#send({ type: "job-event", jobId: id, attempt, event: { type: "log", level: "warn", message } });
      job.lost = 0;
    }
    for (const event of job.pending.splice(0)) this.#send({ type: "job-event", jobId: id, attempt, event });
  }

  #online(): boolean {
    return this.#registered && this.#socket?.readyState === WebSocket.OPEN;
  }

  #report(job: Running): void {
    const { id } = job.assignment.job;
    const attempt = job.assignment.attempt;
    const outcome = job.outcome!;
    if (job.cancelled || (!outcome.ok && outcome.cancelled)) {
      this.#send({ type: "cancel-ack", jobId: id, attempt });
    } else if (outcome.ok) {
      this.#send({ type: "complete", jobId: id, attempt, result: outcome.result });
    } else {
      this.#send({ type: "fail", jobId: id, attempt, code: outcome.code, message: outcome.message });
    }
  }

  #beat(): void {
    const jobIds = [...this.#jobs.entries()].filter(([, j]) => !j.outcome).map(([id]) => id);
    this.#send({ type: "heartbeat", jobIds });
  }

  #send(message: WorkerClientMessage): void {
    const socket = this.#socket;
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }
}
