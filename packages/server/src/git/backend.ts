import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { GitService } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import type { FileEvents } from "../files/events.ts";
import { EXIT } from "../history/git-shell.ts";
import { parseNameStatus } from "../history/parse.ts";
import { gitEnvironment, type ProjectHistory } from "../history/service.ts";
import type { DiskQuota } from "../limits/disk-quota.ts";
import type { ProjectStorage } from "../projects/storage.ts";
import {
  DisabledDriver,
  type SandboxDriver,
  type SandboxProcess,
  UnsafeHostDriver,
} from "../sandbox/index.ts";
import { readCgiHead } from "./cgi.ts";
import { onlyPushing } from "./push-refs.ts";
import { backendArgv } from "./script.ts";
import { ClientGone, collect, endInput, feed, PushTooLarge } from "./streams.ts";
import { WarmGit } from "./warm.ts";

export interface GitLimits {
  /** Bytes one push may upload (the request body as sent). */
  maxPushBytes: number;
  /** Bytes one fetch request may send: wants and haves, never a pack. */
  maxFetchRequestBytes: number;
  /** Wall-clock limit of one request, upload and answer included; the sandbox is killed after it. */
  timeoutMs: number;
  /**
   * A project's warm git sandbox (warm.ts) stops after this long without a request; 0 = every request
   * starts a sandbox of its own.
   */
  warmIdleMs: number;
}

export const DEFAULT_GIT_LIMITS: GitLimits = {
  maxPushBytes: 200 * 1024 * 1024,
  maxFetchRequestBytes: 32 * 1024 * 1024,
  timeoutMs: 10 * 60_000,
  warmIdleMs: 30_000,
};

/** A warm git sandbox takes no new request after this long (a fresh one is started). */
const WARM_MAX_AGE_MS = 10 * 60_000;

/** A project repository a caller may use, as resolved by `GitAccess`. */
export interface GitRepo {
  orgId: string;
  projectId: string;
  /** Hide the checked-out branch from pushes (job tokens: their work reaches it by review and merge). */
  protectHead: boolean;
  /** When set, the one ref a push may create or update (job tokens: their job's branch); all else is hidden. */
  pushRef: string | null;
  /** Who pushes, for the reflog. */
  ident: { name: string; email: string };
}

export interface GitRequest {
  service: GitService;
  /** `GET info/refs?service=…` (the ref advertisement) rather than `POST /<service>`. */
  advertise: boolean;
  /** The request body of a POST, read as it arrives. */
  body?: Readable | undefined;
  contentLength?: number | undefined;
  /** Fetch requests only: git compresses large negotiations. */
  gzip?: boolean | undefined;
  /** The client's `Git-Protocol` header (`version=2`), already checked. */
  protocol?: string | undefined;
  /** Aborted when the client hangs up: the sandbox is killed. */
  signal: AbortSignal;
}

export interface GitResponse {
  status: number;
  headers: Record<string, string>;
  /** http-backend's answer; ends once git has exited (and, after a push, the changed files were announced). */
  body: Readable;
}

export interface GitBackendOptions {
  storage: ProjectStorage;
  /** git runs in the project's sandbox (see ProjectHistory for why). */
  driver: SandboxDriver;
  /** Pushes take the project's history lock. */
  history: ProjectHistory;
  /** Told which files a push to the checked-out branch wrote or deleted. */
  events?: FileEvents | undefined;
  limits?: Partial<GitLimits> | undefined;
  /** The per-project disk quota: a push into a project over it (or that would take it over) is refused. */
  disk?: DiskQuota | undefined;
  /**
   * The driver a project's warm git sandbox starts with (kiln.ts: `Limits.guard`, so it counts against its
   * org's live sandboxes and is stopped with the project's). Default: `driver`.
   */
  warmDriver?: ((orgId: string, projectId: string) => SandboxDriver) | undefined;
}

const MAX_STDERR_BYTES = 8 * 1024 * 1024;

/**
 * Git's smart HTTP protocol (v0, v1 and v2) for a project's repository, answered by `git http-backend` as a
 * CGI program inside the project's sandbox, streaming in both directions. Pushes to the checked-out branch
 * update the working tree (`receive.denyCurrentBranch=updateInstead`), or are refused by git while it has
 * uncommitted changes; pushes to other branches only store them.
 */
export class GitBackend {
  readonly limits: GitLimits;
  readonly #o: GitBackendOptions;
  readonly #runner: SandboxDriver;
  readonly #home: string;
  readonly #warm: WarmGit | undefined;

  constructor(options: GitBackendOptions) {
    this.#o = options;
    this.limits = { ...DEFAULT_GIT_LIMITS, ...options.limits };
    // Like the history: where the host cannot sandbox, no project code ever ran in the repository.
    const host = options.driver instanceof DisabledDriver || options.driver.unsandboxed;
    this.#runner = options.driver instanceof DisabledDriver ? new UnsafeHostDriver() : options.driver;
    this.#home = host ? mkdtempSync(path.join(os.tmpdir(), "kiln-git-http-home-")) : "/tmp";
    const driver = options.driver;
    this.#warm =
      host || this.limits.warmIdleMs <= 0
        ? undefined
        : new WarmGit({
            driverFor: options.warmDriver ?? (() => driver),
            workspaceOf: (orgId, projectId) => options.storage.projectDir(orgId, projectId),
            ownerOf: (projectId) => driver.workspaceOwner(projectId),
            idleMs: () => this.limits.warmIdleMs,
            maxAgeMs: WARM_MAX_AGE_MS,
          });
  }

  /** The warm git sandboxes (tests). */
  get warm(): WarmGit | undefined {
    return this.#warm;
  }

  close(): void {
    this.#warm?.close();
    if (this.#home !== "/tmp") rmSync(this.#home, { recursive: true, force: true });
  }

  /** A deleted project's warm git sandbox stops (projects/forget.ts). */
  async forgetProject(orgId: string, projectId: string): Promise<void> {
    await this.#warm?.forgetProject(orgId, projectId);
  }

  async forgetOrg(orgId: string): Promise<void> {
    await this.#warm?.forgetOrg(orgId);
  }

  async serve(repo: GitRepo, request: GitRequest): Promise<GitResponse> {
    const push = request.service === "git-receive-pack" && !request.advertise;
    const limit = push ? this.limits.maxPushBytes : this.limits.maxFetchRequestBytes;
    if (request.contentLength !== undefined && request.contentLength > limit) throw tooLarge(limit, push);
    if (push) await this.#o.disk?.assertRoom(repo.orgId, repo.projectId, request.contentLength ?? 0);
    if (!push) return this.#run(repo, request, limit, () => {});
    if (repo.pushRef && request.body)
      request = { ...request, body: await pushingOnly(request.body, repo.pushRef) };
    // The lock is held until git has exited, not only until its answer starts.
    return new Promise<GitResponse>((resolve, reject) => {
      this.#o.history
        .exclusive(
          repo,
          () =>
            new Promise<void>((done) => {
              // What the push wrote is not counted anywhere else: the next check measures again.
              const release = () => {
                this.#o.disk?.forget(repo.orgId, repo.projectId);
                done();
              };
              this.#run(repo, request, limit, release).then(resolve, (error: unknown) => {
                release();
                reject(error);
              });
            }),
        )
        .catch(reject);
    });
  }

  async #run(repo: GitRepo, request: GitRequest, limit: number, onDone: () => void): Promise<GitResponse> {
    if (request.signal.aborted) throw clientGone();
    const push = request.service === "git-receive-pack" && !request.advertise;
    const nonce = `\x1ekiln-git-${randomBytes(12).toString("hex")}\x1e`;
    const argv = backendArgv(push ? "push" : "serve");
    const env = this.#env(repo, request, nonce);
    let proc: SandboxProcess;
    try {
      // The project's warm sandbox when it has (or can start) one, else a sandbox for this request alone.
      proc =
        (await this.#warm?.spawn(repo.orgId, repo.projectId, argv, env)) ??
        (await this.#runner.spawn(
          {
            projectId: repo.projectId,
            workspaceDir: this.#o.storage.projectDir(repo.orgId, repo.projectId),
            network: "none",
          },
          { argv, env, openStdin: true, noPorts: true },
        ));
    } catch (error) {
      throw new KilnError("unavailable", "the project's repository cannot be opened right now", {
        cause: error,
      });
    }

    let timedOut = false;
    let hungUp = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void proc.kill();
    }, this.limits.timeoutMs);
    const onAbort = () => {
      hungUp = true;
      void proc.kill();
    };
    request.signal.addEventListener("abort", onAbort, { once: true });
    const stderr = collect(proc.stderr, MAX_STDERR_BYTES);
    const exited = proc.exited.then((status) => {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", onAbort);
      return status;
    });
    const head = readCgiHead(proc.stdout);
    head.catch(() => {});
    const upload = request.body ? feed(request.body, proc.stdin!, limit) : endInput(proc.stdin!);
    upload.catch(() => {});

    // Hold git's answer until the whole request was handed over, so a push over the limit is still a
    // clean 413 (http-backend prints its headers before it reads the body); unless git ends first.
    const first = await Promise.race([
      upload.then(
        () => undefined,
        (error: unknown) => error,
      ),
      exited.then(() => undefined),
    ]);
    if (first instanceof PushTooLarge || first instanceof ClientGone || timedOut || hungUp) {
      proc.stdout.resume();
      await proc.kill();
      await exited;
      onDone();
      if (first instanceof PushTooLarge) throw tooLarge(limit, push);
      if (timedOut) throw timeout();
      throw clientGone();
    }

    let started: Awaited<typeof head>;
    try {
      started = await head;
    } catch {
      // No CGI head: git ended, or printed something else (then it must not linger until the time limit).
      proc.stdout.resume();
      void proc.kill();
      const status = await exited;
      onDone();
      if (timedOut) throw timeout();
      if (hungUp) throw clientGone();
      if (status.exitCode === EXIT.noRepository) {
        throw new KilnError("history_unavailable", "this project has no git repository");
      }
      throw new Error(`git http-backend failed (exit ${status.exitCode}): ${tail(stderr.text(), 2000)}`);
    }

    const body = new PassThrough();
    body.write(started.rest);
    const stdoutDone = finished(proc.stdout).catch(() => {});
    proc.stdout.pipe(body, { end: false });
    // Ended only once git has exited and all it printed was passed on.
    void Promise.all([exited, stdoutDone]).then(([status]) => {
      if (push && status.exitCode === 0) this.#announce(repo, stderr.buffer(), nonce);
      onDone();
      if (timedOut || hungUp)
        body.destroy(new Error(timedOut ? "git took too long to answer" : "client hung up"));
      else body.end();
    });
    return { status: started.head.status, headers: started.head.headers, body };
  }

  #env(repo: GitRepo, request: GitRequest, nonce: string): Record<string, string> {
    const { service } = request;
    return {
      ...gitEnvironment(this.#home),
      // Reflog entries name who pushed.
      GIT_COMMITTER_NAME: repo.ident.name,
      GIT_COMMITTER_EMAIL: repo.ident.email,
      REMOTE_USER: repo.ident.email,
      REQUEST_METHOD: request.advertise ? "GET" : "POST",
      PATH_INFO: request.advertise ? "/info/refs" : `/${service}`,
      QUERY_STRING: request.advertise ? `service=${service}` : "",
      CONTENT_TYPE: request.advertise ? "" : `application/x-${service}-request`,
      ...(request.gzip ? { HTTP_CONTENT_ENCODING: "gzip" } : {}),
      ...(request.protocol ? { GIT_PROTOCOL: request.protocol } : {}),
      KILN_PROTECT_HEAD: repo.protectHead ? "1" : "0",
      KILN_PUSH_REF: repo.pushRef ?? "",
      KILN_NONCE: nonce,
    };
  }

  /** After a push moved the checked-out branch: which files changed, for dev servers and editors. */
  #announce(repo: GitRepo, stderr: Buffer, nonce: string): void {
    const at = stderr.lastIndexOf(nonce);
    if (at === -1 || !this.#o.events) return;
    const written: string[] = [];
    const deleted: string[] = [];
    for (const change of parseNameStatus(stderr.subarray(at + Buffer.byteLength(nonce)).toString("utf8"))) {
      (change.status === "D" ? deleted : written).push(change.path);
    }
    const { orgId, projectId } = repo;
    if (written.length) this.#o.events.emit({ orgId, projectId, kind: "written", paths: written });
    if (deleted.length) this.#o.events.emit({ orgId, projectId, kind: "deleted", paths: deleted });
  }
}

function tooLarge(limit: number, push: boolean): KilnError {
  const mib = Math.floor(limit / (1024 * 1024));
  return new KilnError(
    "payload_too_large",
    push
      ? `this push is larger than the server accepts (${mib} MiB); push fewer commits at a time`
      : `this fetch request is larger than the server accepts (${mib} MiB)`,
  );
}

function timeout(): KilnError {
  return new KilnError("unavailable", "git took too long; the request was stopped");
}

/** The body, once its commands update `ref` alone; a client gone meanwhile is a 400 like elsewhere. */
async function pushingOnly(body: Readable, ref: string): Promise<Readable> {
  try {
    return await onlyPushing(body, ref);
  } catch (error) {
    if (error instanceof KilnError) throw error;
    throw clientGone();
  }
}

function clientGone(): KilnError {
  return new KilnError("bad_request", "the client hung up before the request was complete");
}

function tail(text: string, max: number): string {
  const trimmed = text.trim();
  return trimmed.length > max ? trimmed.slice(-max) : trimmed;
}
