import { randomBytes } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { lstat, open, readdir, realpath, rename, unlink } from "node:fs/promises";
import nodePath from "node:path";
import { grepInWorker } from "./grep.ts";
import { assertNotReserved, parseWorkspacePath } from "./paths.ts";
import { VerifiedDir } from "./verified-dir.ts";
import {
  type ExecOptions,
  type GrepOptions,
  type GrepResult,
  type ListEntry,
  type ListResult,
  type PreviewStatus,
  type ProjectInfo,
  type ShellSession,
  type Workspace,
  WorkspaceError,
  type WorkspaceExecResult,
  type WriteOptions,
  type WriteResult,
} from "./workspace.ts";

/** Runs a command for a `DirWorkspace`; the server or worker plugs its sandbox in here. */
export type DirExec = (
  command: string,
  options: {
    /** Relative POSIX directory inside the workspace, "" for its root (already checked). */
    cwd: string;
    timeoutMs: number;
    signal?: AbortSignal;
    network: boolean;
  },
) => Promise<WorkspaceExecResult>;

export interface DirWorkspaceOptions {
  /** The host directory holding the project's files. */
  root: string;
  exec?: DirExec;
  openShell?: () => Promise<ShellSession>;
  info?: () => Promise<ProjectInfo>;
  previewStatus?: () => Promise<PreviewStatus>;
  /** Largest file `readFile` returns (default 2 MiB). */
  maxReadBytes?: number;
  /** A content search is stopped after this long (default 20 s). */
  grepTimeoutMs?: number;
  /**
   * The sandbox user that runs the workspace's commands: files and directories the tools create are given
   * to it through their own descriptors as they are made (fchown), so the commands can change them.
   */
  owner?: { uid: number; gid: number };
}

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK } = constants;
const SKIPPED_DIRS = new Set([".git", "node_modules"]);
const DEFAULT_EXEC_TIMEOUT_MS = 120_000;

interface Resolved {
  /** Canonical host path. */
  abs: string;
  /** Canonical path relative to the root. */
  rel: string;
  exists: boolean;
}

/**
 * A `Workspace` over a host directory. Paths are checked twice: as spelled (parseWorkspacePath) and as
 * they lead on disk — every segment is lstat-ed and a symlink is followed only while its real path stays
 * inside the root. Final opens use O_NOFOLLOW and writes go to a temp file renamed into place, so a link
 * swapped in after the check fails the call rather than leading it outside.
 */
export class DirWorkspace implements Workspace {
  readonly #options: DirWorkspaceOptions;
  #realRoot: Promise<string> | undefined;

  openShell?: () => Promise<ShellSession>;
  info?: () => Promise<ProjectInfo>;
  previewStatus?: () => Promise<PreviewStatus>;

  constructor(options: DirWorkspaceOptions) {
    this.#options = options;
    if (options.openShell) this.openShell = options.openShell;
    if (options.info) this.info = options.info;
    if (options.previewStatus) this.previewStatus = options.previewStatus;
  }

  async readFile(path: string): Promise<string> {
    const target = await this.#resolve(path, { followFinal: true });
    if (!target.exists) throw new WorkspaceError("file_not_found", `no such file: ${path}`);
    if (target.rel === "")
      throw new WorkspaceError("is_a_directory", `${path} is a directory (use list_files)`);
    const { dir, name } = await this.#parentOf(target.rel);
    try {
      const handle = await open(dir.child(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((err) => {
        throw fsError(err, path);
      });
      try {
        const stat = await handle.stat();
        if (stat.isDirectory())
          throw new WorkspaceError("is_a_directory", `${path} is a directory (use list_files)`);
        if (!stat.isFile()) throw new WorkspaceError("path_invalid", `${path} is not a regular file`);
        const max = this.#options.maxReadBytes ?? 2 * 1024 * 1024;
        if (stat.size > max) {
          throw new WorkspaceError(
            "file_too_large",
            `${path} is ${stat.size} bytes; the limit is ${max} (search it with grep instead)`,
          );
        }
        return decodeText(await handle.readFile(), path);
      } finally {
        await handle.close();
      }
    } finally {
      await dir.close();
    }
  }

  async writeFile(path: string, content: string, options: WriteOptions = {}): Promise<WriteResult> {
    // Writing through an in-project symlink writes its target, checked like a read.
    const target = await this.#resolve(path, { followFinal: true });
    const { dir, name } = await this.#parentOf(target.rel, { create: true, owner: this.#options.owner });
    try {
      const existing = await lstat(dir.child(name)).catch((err) => {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw fsError(err, path);
      });
      if (existing?.isDirectory()) throw new WorkspaceError("is_a_directory", `${path} is a directory`);
      if (existing && !existing.isFile())
        throw new WorkspaceError("path_invalid", `${path} is not a regular file`);
      const mode = existing ? existing.mode & 0o777 : 0o644;
      const max = this.#options.maxReadBytes ?? 2 * 1024 * 1024;
      const previous =
        options.previous && existing && existing.size <= max
          ? await readTextOrUndefined(dir.child(name), max, path)
          : undefined;
      const temp = `.${name.slice(0, 200)}.kiln-${randomBytes(6).toString("hex")}.tmp`;
      // O_EXCL: a new inode of our own, so the fchown can reach nothing else. An existing file (maybe a hard
      // link shared with the dependency cache) is replaced by the rename below, never written into.
      const handle = await open(dir.child(temp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
      try {
        await handle.writeFile(content, "utf8");
        const owner = this.#options.owner;
        if (owner) await handle.chown(owner.uid, owner.gid);
        await handle.chmod(mode);
        await handle.sync();
      } catch (err) {
        await handle.close();
        await unlink(dir.child(temp)).catch(() => {});
        throw err;
      }
      await handle.close();
      // rename replaces the directory entry itself; it never follows a link put there in the meantime.
      await rename(dir.child(temp), dir.child(name)).catch(async (err) => {
        await unlink(dir.child(temp)).catch(() => {});
        throw fsError(err, path);
      });
      return previous === undefined ? { created: !existing } : { created: !existing, previous };
    } finally {
      await dir.close();
    }
  }

  async deleteFile(path: string): Promise<void> {
    // The final segment is not followed: deleting a link removes the link, which can never reach outside.
    const target = await this.#resolve(path, { followFinal: false });
    if (!target.exists) throw new WorkspaceError("file_not_found", `no such file: ${path}`);
    const { dir, name } = await this.#parentOf(target.rel);
    try {
      const stat = await lstat(dir.child(name)).catch((err) => {
        throw fsError(err, path);
      });
      if (stat.isDirectory()) {
        throw new WorkspaceError("is_a_directory", `${path} is a directory; only files can be deleted`);
      }
      await unlink(dir.child(name)).catch((err) => {
        throw fsError(err, path);
      });
    } finally {
      await dir.close();
    }
  }

  async list(dir: string, options: { recursive?: boolean; limit?: number } = {}): Promise<ListResult> {
    const target = await this.#resolve(dir, { followFinal: true, allowRoot: true });
    if (!target.exists) throw new WorkspaceError("file_not_found", `no such directory: ${dir || "/"}`);
    if (!(await lstat(target.abs)).isDirectory()) {
      throw new WorkspaceError("not_a_directory", `${dir} is not a directory`);
    }
    const limit = Math.max(1, options.limit ?? 1000);
    const entries: ListEntry[] = [];
    let truncated = false;
    const walk = async (current: VerifiedDir, rel: string): Promise<void> => {
      const children = (await readdir(current.path, { withFileTypes: true })).sort((a, b) =>
        a.name < b.name ? -1 : 1,
      );
      for (const child of children) {
        if (SKIPPED_DIRS.has(child.name.toLowerCase())) continue;
        if (entries.length >= limit) {
          truncated = true;
          return;
        }
        const childRel = rel ? `${rel}/${child.name}` : child.name;
        const type = child.isDirectory()
          ? "directory"
          : child.isFile()
            ? "file"
            : child.isSymbolicLink()
              ? "symlink"
              : "other";
        const size =
          type === "file"
            ? await lstat(current.child(child.name)).then(
                (s) => s.size,
                () => 0,
              )
            : 0;
        entries.push({ path: childRel, type, size });
        if (type === "directory" && options.recursive) {
          const sub = await current.openChild(child.name).catch(() => undefined);
          if (!sub) continue; // replaced by something else since readdir
          try {
            await walk(sub, childRel);
          } finally {
            await sub.close();
          }
          if (truncated) return;
        }
      }
    };
    const top = await VerifiedDir.open(await this.#root(), target.rel ? target.rel.split("/") : []);
    try {
      await walk(top, target.rel);
    } finally {
      await top.close();
    }
    return { entries, truncated };
  }

  async grep(pattern: string, options: GrepOptions = {}): Promise<GrepResult> {
    const target = await this.#resolve(options.path ?? "", { followFinal: true, allowRoot: true });
    if (!target.exists)
      throw new WorkspaceError("file_not_found", `no such file or directory: ${options.path}`);
    return grepInWorker({
      root: await this.#root(),
      start: target.rel,
      pattern,
      ignoreCase: options.ignoreCase ?? false,
      glob: options.glob,
      limit: options.limit ?? 200,
      timeoutMs: this.#options.grepTimeoutMs,
    });
  }

  async exec(command: string, options: ExecOptions = {}): Promise<WorkspaceExecResult> {
    const exec = this.#options.exec;
    if (!exec) throw new WorkspaceError("unavailable", "this workspace cannot run commands");
    let cwd = "";
    if (options.cwd) {
      const target = await this.#resolve(options.cwd, { followFinal: true, allowRoot: true });
      if (!target.exists) throw new WorkspaceError("file_not_found", `no such directory: ${options.cwd}`);
      if (!(await lstat(target.abs)).isDirectory())
        throw new WorkspaceError("not_a_directory", `${options.cwd} is not a directory`);
      cwd = target.rel;
    }
    return exec(command, {
      cwd,
      timeoutMs: options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
      signal: options.signal,
      network: options.network ?? false,
    });
  }

  #root(): Promise<string> {
    this.#realRoot ??= realpath(this.#options.root);
    return this.#realRoot;
  }

  /** Where a path leads: symlinks are followed only while they stay inside the root. */
  async #resolve(path: string, options: { followFinal: boolean; allowRoot?: boolean }): Promise<Resolved> {
    const segments = parseWorkspacePath(path, { allowRoot: options.allowRoot });
    const root = await this.#root();
    let current = root;
    for (let i = 0; i < segments.length; i++) {
      const last = i === segments.length - 1;
      const next = nodePath.join(current, segments[i]!);
      let stat: Stats;
      try {
        stat = await lstat(next);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return this.#finish(root, nodePath.join(current, ...segments.slice(i)), false);
        throw fsError(err, segments.slice(0, i + 1).join("/"));
      }
      if (stat.isSymbolicLink() && (!last || options.followFinal)) {
        let target: string;
        try {
          target = await realpath(next);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === "ENOENT")
            throw new WorkspaceError(
              "file_not_found",
              `${segments.slice(0, i + 1).join("/")} is a dangling symlink`,
            );
          throw fsError(err, path);
        }
        if (!isInside(root, target)) {
          throw new WorkspaceError(
            "path_outside_project",
            `${segments.slice(0, i + 1).join("/")} is a symlink that leads outside the project`,
          );
        }
        current = target;
        continue;
      }
      if (!last && !stat.isDirectory())
        throw new WorkspaceError(
          "not_a_directory",
          `${segments.slice(0, i + 1).join("/")} is not a directory`,
        );
      current = next;
    }
    return this.#finish(root, current, true);
  }

  #finish(root: string, abs: string, exists: boolean): Resolved {
    const rel = nodePath.relative(root, abs).split(nodePath.sep).join("/");
    // An in-project symlink may still lead into .git.
    if (rel) assertNotReserved(rel.split("/"));
    return { abs, rel, exists };
  }

  /** The verified parent directory of a canonical path, and the final name. */
  async #parentOf(
    rel: string,
    options: { create?: boolean; owner?: { uid: number; gid: number } } = {},
  ): Promise<{ dir: VerifiedDir; name: string }> {
    const segments = rel.split("/");
    const name = segments.pop()!;
    return { dir: await VerifiedDir.open(await this.#root(), segments, options), name };
  }
}

export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const rel = nodePath.relative(root, candidate);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${nodePath.sep}`) && !nodePath.isAbsolute(rel);
}

function fsError(err: unknown, path: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case "ENOENT":
      return new WorkspaceError("file_not_found", `no such file or directory: ${path}`);
    case "EISDIR":
      return new WorkspaceError("is_a_directory", `${path} is a directory`);
    case "ENOTDIR":
      return new WorkspaceError("not_a_directory", `a parent of ${path} is not a directory`);
    case "ELOOP":
      return new WorkspaceError(
        "path_outside_project",
        `${path} changed into a symlink while it was being used`,
      );
    case "ENAMETOOLONG":
      return new WorkspaceError("path_invalid", `${path} is too long`);
    default:
      return err instanceof Error ? err : new Error(String(err));
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A file's UTF-8 text through a descriptor that never follows a link (one planted since the caller looked
 * reads as nothing), or undefined when it is not a regular text file of at most `max` bytes.
 */
async function readTextOrUndefined(file: string, max: number, path: string): Promise<string | undefined> {
  const handle = await open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > max) return undefined;
    const bytes = await handle.readFile();
    return bytes.length > max ? undefined : decodeText(bytes, path);
  } catch {
    return undefined;
  } finally {
    await handle.close();
  }
}

export function decodeText(bytes: Uint8Array, path: string): string {
  const probe = bytes.subarray(0, 8192);
  if (probe.includes(0)) throw new WorkspaceError("file_binary", `${path} is a binary file`);
  try {
    return utf8.decode(bytes);
  } catch {
    throw new WorkspaceError("file_binary", `${path} is not UTF-8 text`);
  }
}
