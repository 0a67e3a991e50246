import { z } from "zod";
import { AgentEvent } from "./agent.ts";
import { AgentToolName } from "./agents.ts";
import { ModelRef, RunEventsQuery } from "./chats.ts";
import { Id, Name, Text, Timestamp } from "./common.ts";
import { ErrorCode } from "./errors.ts";

/**
 * AI jobs (ADR 0012): a queue in the shared database that agent workers (`kiln worker`) take jobs from over
 * a WebSocket. HTTP shapes for the studio, and the worker protocol, both defined here once.
 */

export const JobKind = z.enum(["implement", "review", "fix"]);
export type JobKind = z.infer<typeof JobKind>;

export const JobState = z.enum(["queued", "dispatched", "running", "completed", "failed", "cancelled"]);
export type JobState = z.infer<typeof JobState>;

/** A job in one of these states is over; nothing moves it again. */
export const FINAL_JOB_STATES: readonly JobState[] = ["completed", "failed", "cancelled"];
/** A job in one of these states is held by a worker under a lease. */
export const ACTIVE_JOB_STATES: readonly JobState[] = ["dispatched", "running"];

/** Why an attempt ended without a result. Only the transient ones are tried again. */
export const JobFailureCode = z.enum([
  // transient: the same job may well succeed on another try
  "worker_lost",
  "worker_error",
  "provider_unavailable",
  "provider_rate_limited",
  "git_unavailable",
  "timeout",
  // permanent: trying again would fail the same way, or nobody wants it any more
  "agent_failed",
  "step_limit",
  "push_rejected",
  // a spend budget's hard cap refused the job's model calls (ADR 0029)
  "budget_exceeded",
  "invalid_job",
  "cancelled",
]);
export type JobFailureCode = z.infer<typeof JobFailureCode>;

export const TRANSIENT_JOB_FAILURES: readonly JobFailureCode[] = [
  "worker_lost",
  "worker_error",
  "provider_unavailable",
  "provider_rate_limited",
  "git_unavailable",
  "timeout",
];

export const MAX_JOB_INSTRUCTIONS = 20_000;

/** What a worker hands back when a job succeeds. */
export const JobResult = z
  .strictObject({
    summary: Text(20_000).describe("What the agent did, for the reviewer"),
    branch: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9._/-]+$/, "a git branch name")
      .nullable()
      .describe("The branch the work was pushed to"),
    commit: z
      .string()
      .regex(/^[0-9a-f]{40}([0-9a-f]{24})?$/, "a full git commit id")
      .nullable()
      .describe("The branch's head after the push"),
  })
  .meta({ id: "JobResult" });
export type JobResult = z.infer<typeof JobResult>;

/** Which agent version a job runs (ADR 0035/0036). */
export const JobAgentRef = z
  .object({ id: Id, version: z.number().int().positive() })
  .meta({ id: "JobAgentRef" });
export type JobAgentRef = z.infer<typeof JobAgentRef>;

/**
 * What a worker needs of the agent version a job runs: workers have no database, so it travels with the job
 * (recorded when the job was created; a later edit of the agent does not change it).
 */
export const JobAgent = JobAgentRef.extend({
  name: z.string(),
  systemPrompt: z.string(),
  tools: z.array(AgentToolName),
  stepLimit: z.number().int().positive().nullable(),
  defaultModel: ModelRef.nullable(),
});
export type JobAgent = z.infer<typeof JobAgent>;

export const Job = z
  .object({
    id: Id,
    orgId: Id,
    projectId: Id,
    taskId: Id.nullable(),
    kind: JobKind,
    instructions: z.string(),
    state: JobState,
    attempt: z.number().int().describe("Attempts dispatched so far; the current one while it runs"),
    maxAttempts: z.number().int(),
    workerId: Id.nullable().describe("The worker holding (or that last held) the job"),
    leaseExpiresAt: Timestamp.nullable(),
    cancelRequested: z.boolean(),
    failure: z
      .object({ code: JobFailureCode, message: z.string() })
      .nullable()
      .describe("Why the last attempt failed (also set while a retry waits)"),
    result: JobResult.nullable(),
    requestedBy: Id.nullable(),
    agent: JobAgentRef.nullable().describe(
      "The agent version the job runs; null for a job from before agents (it ran Kiln's built-in agent)",
    ),
    nextAttemptAt: Timestamp.describe("A queued job is not handed out before this (retry backoff)"),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    startedAt: Timestamp.nullable().describe("When the current (or last) attempt was dispatched"),
    finishedAt: Timestamp.nullable(),
  })
  .meta({ id: "Job" });
export type Job = z.infer<typeof Job>;

export const StartJobBody = z.strictObject({
  kind: JobKind,
  instructions: Text(MAX_JOB_INSTRUCTIONS)
    .refine((s) => s.trim().length > 0, "must not be empty")
    .describe("What the agent should do"),
  agentId: Id.optional().describe("The agent the job runs; Kiln's built-in agent when absent"),
});
export type StartJobBody = z.infer<typeof StartJobBody>;

export const JobListQuery = z.strictObject({
  projectId: Id.optional(),
  taskId: Id.optional(),
  state: JobState.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type JobListQuery = z.infer<typeof JobListQuery>;

/** `?after=<seq>`, as for a chat turn's events. */
export const JobEventsQuery = RunEventsQuery;
export type JobEventsQuery = RunEventsQuery;

/** A step report from the worker; the only events a worker may add to a job's log. */
export const WorkerJobEvent = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("step"),
    name: z.string().min(1).max(100).describe("clone, agent, push, …"),
    status: z.enum(["started", "done", "failed"]),
    detail: z.string().max(4000).optional(),
  }),
  z.strictObject({
    type: z.literal("log"),
    level: z.enum(["info", "warn", "error"]),
    message: z.string().max(4000),
  }),
  /** The agent loop's own events, so the board can show the turn like a chat does. */
  z.strictObject({ type: z.literal("agent"), event: AgentEvent }),
]);
export type WorkerJobEvent = z.infer<typeof WorkerJobEvent>;

/** Events the server adds: state changes and cancel requests. */
export const ServerJobEvent = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("state"),
    state: JobState,
    workerId: Id.nullable(),
    failure: z.object({ code: JobFailureCode, message: z.string() }).nullable(),
  }),
  z.object({ type: z.literal("cancel-requested"), by: Id.nullable() }),
]);
export type ServerJobEvent = z.infer<typeof ServerJobEvent>;

export const JobEventBody = z.union([WorkerJobEvent, ServerJobEvent]);
export type JobEventBody = z.infer<typeof JobEventBody>;

/** As stored and streamed: `seq` numbers a job's events from 1 across attempts (the SSE id). */
export const JobEvent = z
  .object({
    seq: z.number().int().positive(),
    attempt: z.number().int().min(0),
    at: Timestamp,
    event: JobEventBody,
  })
  .meta({ id: "JobEvent" });
export type JobEvent = z.infer<typeof JobEvent>;

// ---- workers and their tokens ----

export const WORKER_TOKEN_PREFIX = "kiln_wrk_";
/** Per-attempt credential for git and the model proxy; see JobService.verifyJobToken. */
export const JOB_TOKEN_PREFIX = "kiln_job_";

export const WorkerToken = z
  .object({
    id: Id,
    name: z.string(),
    prefix: z.string().describe("First characters of the token, to recognise it"),
    createdBy: Id.nullable(),
    createdAt: Timestamp,
    lastUsedAt: Timestamp.nullable(),
  })
  .meta({ id: "WorkerToken" });
export type WorkerToken = z.infer<typeof WorkerToken>;

export const CreateWorkerTokenBody = z.strictObject({ name: Name });
export type CreateWorkerTokenBody = z.infer<typeof CreateWorkerTokenBody>;

export const CreatedWorkerToken = WorkerToken.extend({
  token: z.string().describe("The secret (kiln_wrk_…); shown once and never again"),
}).meta({ id: "CreatedWorkerToken" });
export type CreatedWorkerToken = z.infer<typeof CreatedWorkerToken>;

export const Worker = z
  .object({
    id: Id,
    name: z.string(),
    version: z.string(),
    concurrency: z.number().int(),
    scope: z.enum(["org", "instance"]).describe("instance: the server's own worker, serving every org"),
    activeJobs: z.number().int(),
    connectedAt: Timestamp,
    lastSeenAt: Timestamp,
  })
  .meta({ id: "Worker" });
export type Worker = z.infer<typeof Worker>;

// ---- the worker socket: GET /api/workers/socket, Authorization: Bearer kiln_wrk_… ----

/** 2: jobs carry the agent version they run (`agent`), and a worker registering with 2 runs it (ADR 0036). */
export const WORKER_PROTOCOL_VERSION = 2;
/** Largest message either side sends (bytes); a larger one closes the socket with 1009. */
export const WORKER_MAX_MESSAGE_BYTES = 128 * 1024;
export const WORKER_MAX_CONCURRENCY = 32;

const Attempt = z.number().int().min(1).max(1000);
const WorkerName = Name;
const Version = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[A-Za-z0-9._+-]+$/, "a version like 0.1.0");

/** Worker → server, one JSON object per text message. */
export const WorkerClientMessage = z.discriminatedUnion("type", [
  /**
   * First message. A worker that reconnects sends its `workerId` (from an earlier `registered`) and the
   * jobs it still runs: those keep their leases; held jobs it does not list are given back at once.
   */
  z.strictObject({
    type: z.literal("register"),
    name: WorkerName,
    concurrency: z.number().int().min(1).max(WORKER_MAX_CONCURRENCY),
    version: Version,
    protocol: z
      .number()
      .int()
      .min(1)
      .max(1000)
      .optional()
      .describe(
        "The worker protocol it speaks (1 when absent); only 2 and up are given jobs of an org's agents",
      ),
    workerId: Id.optional(),
    jobs: z
      .array(z.strictObject({ jobId: Id, attempt: Attempt }))
      .max(WORKER_MAX_CONCURRENCY)
      .default([]),
  }),
  /**
   * Sent every `heartbeatMs`, with an empty list when idle. Renews the leases of the jobs the worker runs;
   * the first one naming a dispatched job marks it running (send one as soon as a job arrives).
   */
  z.strictObject({ type: z.literal("heartbeat"), jobIds: z.array(Id).max(WORKER_MAX_CONCURRENCY) }),
  /** Asks for work now (free slots are also filled without asking). */
  z.strictObject({ type: z.literal("claim") }),
  z.strictObject({ type: z.literal("job-event"), jobId: Id, attempt: Attempt, event: WorkerJobEvent }),
  z.strictObject({ type: z.literal("complete"), jobId: Id, attempt: Attempt, result: JobResult }),
  z.strictObject({
    type: z.literal("fail"),
    jobId: Id,
    attempt: Attempt,
    code: JobFailureCode,
    message: z.string().max(4000),
  }),
  /** The worker stopped a job after a `cancel`. */
  z.strictObject({ type: z.literal("cancel-ack"), jobId: Id, attempt: Attempt }),
]);
export type WorkerClientMessage = z.infer<typeof WorkerClientMessage>;

export const WorkerHeldJob = z.object({
  jobId: Id,
  attempt: z.number().int(),
  state: JobState,
  cancelRequested: z.boolean(),
});
export type WorkerHeldJob = z.infer<typeof WorkerHeldJob>;

export const CancelReason = z.enum(["requested", "lease_lost", "timeout", "deleted"]);
export type CancelReason = z.infer<typeof CancelReason>;

/** Server → worker. */
export const WorkerServerMessage = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("registered"),
    workerId: Id,
    protocol: z.number().int(),
    leaseMs: z.number().int(),
    heartbeatMs: z.number().int().describe("Send a heartbeat at least this often"),
    jobs: z
      .array(WorkerHeldJob)
      .describe(
        "Of the jobs listed in register, those this worker still holds; stop any other unfinished one",
      ),
  }),
  z.object({
    type: z.literal("job"),
    job: Job,
    attempt: z.number().int(),
    leaseMs: z.number().int(),
    branch: z.string().describe("The branch to work on: kiln/task-<taskId>, or kiln/job-<jobId>"),
    repoUrl: z.string().describe("Git smart HTTP URL of the project; authenticate with jobToken"),
    modelProxyUrl: z.string().describe("OpenAI/Anthropic-compatible base URL; authenticate with jobToken"),
    jobToken: z.string().describe("kiln_job_…: valid for this attempt while it holds its lease"),
    agent: JobAgent.optional().describe(
      "The agent version to run: its prompt, tools, step limit and model; absent: Kiln's built-in agent",
    ),
  }),
  /**
   * Stop this attempt. `requested`: someone cancelled it; stop, then send `cancel-ack`. Any other reason: the
   * server has already ended the attempt (lease lost, time limit, project deleted); just stop.
   */
  z.object({ type: z.literal("cancel"), jobId: Id, attempt: z.number().int(), reason: CancelReason }),
  /** The answer to complete, fail and cancel-ack; repeated messages get the same answer. */
  z.object({
    type: z.literal("ack"),
    of: z.enum(["complete", "fail", "cancel-ack"]),
    jobId: Id,
    attempt: z.number().int(),
    state: JobState,
  }),
  z.object({
    type: z.literal("error"),
    code: ErrorCode,
    message: z.string(),
    /** The message this answers, when it could be read. */
    ref: z.object({ type: z.string(), jobId: z.string().optional() }).optional(),
  }),
]);
export type WorkerServerMessage = z.infer<typeof WorkerServerMessage>;

/** WebSocket close codes of the worker socket (4000–4999 are the application's, RFC 6455 §7.4.2). */
export const WORKER_CLOSE = {
  /** The worker's token was revoked, or its org deleted. */
  revoked: 4401,
  /** The same worker registered again on another connection. */
  replaced: 4409,
  /** Too many invalid messages; the worker is broken. */
  invalidMessages: 4400,
  /** More messages waiting than the server will queue. */
  tooFast: 1013,
  /** The server is shutting down; reconnect (with workerId) to keep your leases. */
  shutdown: 1001,
} as const;
