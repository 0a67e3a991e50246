import { randomUUID } from "node:crypto";
import type {
  ExecOptions,
  GrepOptions,
  GrepResult,
  ListResult,
  PreviewStatus,
  ProjectInfo,
  Workspace,
  WorkspaceErrorCode,
  WorkspaceExecResult,
  WriteOptions,
  WriteResult,
} from "@kiln/agent";
import {
  globToRegExp,
  canonicalToolPath as rel,
  type ShellSession,
  shellSessionOverProcess,
  WorkspaceError,
} from "@kiln/agent";
import type { Project } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import type { FileService } from "../files/service.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { SandboxDriver, SandboxSpec } from "../sandbox/driver.ts";

const WORKSPACE_CODES = new Set<string>([
  "file_not_found",
  "is_a_directory",
  "not_a_directory",
  "file_too_large",
  "file_binary",
  "path_invalid",
  "path_outside_project",
  "path_reserved",
]);

export interface ProjectWorkspaceDeps {
  access: OrgAccess;
  project: Project;
  files: FileService;
  driver: SandboxDriver;
  /** The project's sandbox, with its environment variables (read for each command: changes apply at once). */
  sandbox: (network: boolean) => Promise<SandboxSpec>;
  info?: () => Promise<ProjectInfo>;
  previewStatus?: () => Promise<PreviewStatus>;
  /** Longest a single command may run, whatever the model asks for. */
  maxExecMs?: number;
}

/**
 * The agent's view of a project inside the server: files through the file API (so every write is path
 * checked, handed to the sandbox uid and announced to live reload) and commands through the runtime
 * driver's sandbox. The agent acts with the permissions of the member who started the turn.
 */
export class ProjectWorkspace implements Workspace {
  readonly #d: ProjectWorkspaceDeps;

  constructor(deps: ProjectWorkspaceDeps) {
    this.#d = deps;
    if (deps.info) this.info = deps.info;
    if (deps.previewStatus) this.previewStatus = deps.previewStatus;
  }

  info?: () => Promise<ProjectInfo>;
  previewStatus?: () => Promise<PreviewStatus>;

  async readFile(raw: string): Promise<string> {
    const path = rel(raw);
    return translate(async () => {
      // The project was looked up for this access when the turn started: no second lookup per call.
      const file = await this.#d.files.read(this.#d.access, this.#d.project, { path, encoding: "utf8" });
      return file.content;
    });
  }

  async writeFile(raw: string, content: string, options: WriteOptions = {}): Promise<WriteResult> {
    const path = rel(raw);
    return translate(async () => {
      // Whether it existed, and what it held, come from the write itself: no separate read first.
      const { created, previous } = await this.#d.files.writeReporting(
        this.#d.access,
        this.#d.project,
        { path, content, encoding: "utf8", createParents: true, createOnly: false },
        { previous: options.previous ?? false },
      );
      return previous === undefined ? { created } : { created, previous };
    });
  }

  async deleteFile(raw: string): Promise<void> {
    const path = rel(raw);
    await translate(() => this.#d.files.delete(this.#d.access, this.#d.project.id, { path }));
  }

  async list(raw: string, options: { recursive?: boolean; limit?: number } = {}): Promise<ListResult> {
    const dir = rel(raw);
    return translate(async () => {
      const limit = options.limit ?? 2000;
      const tree = await this.#d.files.tree(this.#d.access, this.#d.project.id, {
        path: dir,
        maxEntries: Math.min(20_000, options.recursive ? limit : 20_000),
      });
      const prefix = dir ? `${dir.replace(/\/+$/, "")}/` : "";
      let entries = tree.entries;
      if (!options.recursive) entries = entries.filter((e) => !e.path.slice(prefix.length).includes("/"));
      const truncated = tree.truncated || entries.length > limit;
      return {
        entries: entries.slice(0, limit).map((e) => ({ path: e.path, type: e.type, size: e.size })),
        truncated,
      };
    });
  }

  async grep(pattern: string, options: GrepOptions = {}): Promise<GrepResult> {
    return translate(async () => {
      const limit = options.limit ?? 200;
      const glob = options.glob ? globToRegExp(options.glob) : undefined;
      const result = await this.#d.files.search(this.#d.access, this.#d.project.id, {
        query: pattern,
        mode: "content",
        regex: true,
        caseSensitive: !options.ignoreCase,
        ...(options.path && rel(options.path) ? { path: rel(options.path) } : {}),
        // Filtering by glob happens after the search, so ask for more to still fill the page.
        maxResults: Math.min(2000, glob ? limit * 5 : limit),
      });
      const matches = result.matches
        .filter((m) => !glob || glob.test(m.path))
        .map((m) => ({ path: m.path, line: m.line ?? 0, text: m.text ?? "" }));
      return { matches: matches.slice(0, limit), truncated: result.truncated || matches.length > limit };
    });
  }

  async exec(command: string, options: ExecOptions = {}): Promise<WorkspaceExecResult> {
    const max = this.#d.maxExecMs ?? 10 * 60_000;
    const wallClockMs = Math.min(max, Math.max(1000, options.timeoutMs ?? 120_000));
    const result = await this.#d.driver.exec(await this.#d.sandbox(options.network ?? false), {
      argv: ["bash", "-lc", command],
      cwd: options.cwd && rel(options.cwd) ? `/workspace/${rel(options.cwd)}` : "/workspace",
      limits: { wallClockMs, outputBytes: 64 * 1024 },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return {
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      timedOut: result.timedOut,
      truncated: result.stdoutTruncated || result.stderrTruncated,
      durationMs: result.durationMs,
    };
  }

  async openShell(): Promise<ShellSession> {
    const proc = await this.#d.driver.spawn(await this.#d.sandbox(false), {
      argv: ["bash", "--noprofile", "--norc"],
      cwd: "/workspace",
      openStdin: true,
    });
    if (!proc.stdin) throw new WorkspaceError("unavailable", "the sandbox could not open a shell");
    return shellSessionOverProcess(randomUUID(), {
      stdin: proc.stdin,
      stdout: proc.stdout,
      stderr: proc.stderr,
      kill: () => proc.kill(),
      exited: proc.exited,
    });
  }
}

async function translate<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof KilnError && WORKSPACE_CODES.has(err.code)) {
      throw new WorkspaceError(err.code as WorkspaceErrorCode, err.message);
    }
    throw err;
  }
}
