import { randomUUID } from "node:crypto";
import type { CreateTerminalBody, Terminal } from "@kiln/protocol";
import { ConflictError, KilnError, NotFoundError } from "../errors/errors.ts";
import type { Limits } from "../limits/index.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { SandboxDriver, SandboxProcess, SandboxSpec } from "../sandbox/driver.ts";
import { ptyArgv } from "./pty-helper.ts";
import { TerminalSession } from "./session.ts";

export interface TerminalServiceOptions {
  projects: ProjectService;
  driver: SandboxDriver;
  /**
   * The project's sandbox (workspace, mounts, network, environment variables), the same one its dev server
   * gets. A shell keeps the environment it started with.
   */
  sandboxFor(orgId: string, projectId: string): Promise<SandboxSpec>;
  /** Sessions with no attached socket and no output for this long are killed; 0 never. */
  idleMs: number;
  /** Output characters kept for a reconnecting client. */
  scrollbackChars?: number;
  /** Open sessions per project; one more is refused. */
  maxPerProject?: number;
  /** Terminals per org and per user, the org's sandbox budget and the project's disk quota. */
  limits?: Limits;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

const SHELL = ["/bin/bash", "-i"];

/**
 * Persistent shells in project sandboxes. Sessions are in memory: they end with the server (and with their
 * project or org); the API addresses one by org, project and id, and any other combination is not found.
 */
export class TerminalService {
  readonly #o: TerminalServiceOptions;
  readonly #sessions = new Map<string, TerminalSession>();
  readonly #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: TerminalServiceOptions) {
    this.#o = options;
    if (options.idleMs > 0) {
      this.#sweeper = setInterval(
        () => void this.sweep(),
        Math.min(30_000, Math.max(250, options.idleMs / 4)),
      );
      this.#sweeper.unref();
    }
  }

  async create(access: OrgAccess, projectRef: string, body: CreateTerminalBody): Promise<Terminal> {
    requirePermission(access.role, "projects.write");
    const project = await this.#o.projects.get(access, projectRef);
    const open = [...this.#sessions.values()].filter((s) => s.projectId === project.id).length;
    const max = this.#o.maxPerProject ?? 10;
    if (open >= max) {
      throw new ConflictError("conflict", `this project already has ${max} open terminals; close one first`);
    }
    const cols = body.cols ?? 80;
    const rows = body.rows ?? 24;
    const owner = {
      kind: "terminal" as const,
      orgId: access.org.id,
      projectId: project.id,
      userId: access.userId,
    };
    const driver = this.#o.limits ? this.#o.limits.guard(owner, this.#o.driver) : this.#o.driver;
    let process: SandboxProcess;
    try {
      process = await driver.spawn(await this.#o.sandboxFor(access.org.id, project.id), {
        argv: ptyArgv(cols, rows, SHELL),
        env: { TERM: "xterm-256color", PS1: "\\w \\$ " },
        openStdin: true,
      });
    } catch (err) {
      if (err instanceof KilnError) throw err;
      // No sandbox on this host (DisabledDriver) or it could not be set up: the reason, not a 500.
      throw new KilnError("unavailable", `could not start a shell: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const session = new TerminalSession(
      {
        id: randomUUID(),
        orgId: access.org.id,
        projectId: project.id,
        createdBy: access.userId,
        cols,
        rows,
        scrollbackChars: this.#o.scrollbackChars ?? 64 * 1024,
      },
      process,
    );
    if (this.#closed) {
      await session.kill();
      throw new KilnError("unavailable", "the server is shutting down");
    }
    this.#sessions.set(session.id, session);
    void session.exited.then(() => this.#sessions.delete(session.id));
    this.#o.log?.info({ terminalId: session.id, projectId: project.id }, "terminal opened");
    return session.toJSON();
  }

  async list(access: OrgAccess, projectRef: string): Promise<Terminal[]> {
    const project = await this.#o.projects.get(access, projectRef);
    return [...this.#sessions.values()]
      .filter((s) => s.orgId === access.org.id && s.projectId === project.id && !s.exit)
      .map((s) => s.toJSON());
  }

  /** The session to attach a socket to; typing into a shell needs the same role as running code. */
  async open(access: OrgAccess, projectRef: string, id: string): Promise<TerminalSession> {
    requirePermission(access.role, "projects.write");
    return this.#find(access, projectRef, id);
  }

  async kill(access: OrgAccess, projectRef: string, id: string): Promise<void> {
    requirePermission(access.role, "projects.write");
    const session = await this.#find(access, projectRef, id);
    this.#sessions.delete(session.id);
    await session.kill();
  }

  /** Kills sessions nobody watches that have been quiet for `idleMs`. Runs on a timer; public for tests. */
  async sweep(now = Date.now()): Promise<number> {
    const idle = [...this.#sessions.values()].filter(
      (s) => s.attached === 0 && now - s.lastActivity > this.#o.idleMs,
    );
    await Promise.all(idle.map((s) => this.#end(s, "terminal idle, killed")));
    return idle.length;
  }

  async forgetProject(orgId: string, projectId: string): Promise<void> {
    const doomed = [...this.#sessions.values()].filter((s) => s.orgId === orgId && s.projectId === projectId);
    await Promise.all(doomed.map((s) => this.#end(s)));
  }

  async forgetOrg(orgId: string): Promise<void> {
    await Promise.all([...this.#sessions.values()].filter((s) => s.orgId === orgId).map((s) => this.#end(s)));
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    await Promise.all([...this.#sessions.values()].map((s) => this.#end(s)));
  }

  async #find(access: OrgAccess, projectRef: string, id: string): Promise<TerminalSession> {
    const project = await this.#o.projects.get(access, projectRef);
    const session = this.#sessions.get(id);
    if (!session || session.orgId !== access.org.id || session.projectId !== project.id || session.exit) {
      throw new NotFoundError("terminal_not_found", "no such terminal in this project");
    }
    return session;
  }

  async #end(session: TerminalSession, why?: string): Promise<void> {
    this.#sessions.delete(session.id);
    if (why) this.#o.log?.info({ terminalId: session.id, projectId: session.projectId }, why);
    await session.kill().catch(() => {});
  }
}
