import type { Stats } from "node:fs";
import { lstat, rename, rm, rmdir, unlink } from "node:fs/promises";
import type {
  DeleteFileQuery,
  FileContent,
  FileEntry,
  FileInfo,
  FileTree,
  FileTreeQuery,
  FileType,
  MakeDirectoryBody,
  MoveFileBody,
  ReadFileQuery,
  SearchFilesQuery,
  SearchResult,
  WriteFileBody,
} from "@kiln/protocol";
import { KilnError, ValidationError } from "../errors/errors.ts";
import type { DiskQuota } from "../limits/disk-quota.ts";
import { type Permission, requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ProjectStorage } from "../projects/storage.ts";
import { removeAsOwner } from "../sandbox/as-owner.ts";
import { asText, decodeBase64, versionOf } from "./content.ts";
import type { FileEvents } from "./events.ts";
import { assertNotReserved, joinSegments, PathError, parsePath } from "./paths.ts";
import {
  atomicWrite,
  type Dir,
  fileNotFound,
  fsCode,
  isADirectory,
  lstatOrUndefined,
  mapFsError,
  openFileForRead,
  outsideProject,
  ProjectRoot,
} from "./project-root.ts";
import { isGitName, searchFiles } from "./search.ts";
import { walk } from "./walk.ts";

export interface FileLimits {
  /** Largest file read or written through the API. */
  maxFileBytes: number;
  /** Default entry cap of a tree listing. */
  treeEntries: number;
  /** Largest file searched by content, and the bytes one search may read in total. */
  searchFileBytes: number;
  searchScanBytes: number;
  regexTimeoutMs: number;
}

export const DEFAULT_FILE_LIMITS: FileLimits = {
  maxFileBytes: 2 * 1024 * 1024,
  treeEntries: 5000,
  searchFileBytes: 1024 * 1024,
  searchScanBytes: 32 * 1024 * 1024,
  regexTimeoutMs: 2000,
};

/** The write route's body limit: base64 of the largest file plus room for the rest of the JSON. */
export function writeBodyLimit(limits: FileLimits): number {
  return Math.ceil(limits.maxFileBytes / 3) * 4 + 64 * 1024;
}

const fileTooLarge = (p: string, max: number) =>
  new KilnError("file_too_large", `${p} is larger than ${max} bytes`, { details: { maxBytes: max } });

/**
 * A project's files on disk, for the editor and the agent. Paths are checked by paths.ts and resolved by
 * project-root.ts; this class decides what each operation means and who may do it.
 */
export class FileService {
  readonly limits: FileLimits;
  readonly #projects: ProjectService;
  readonly #storage: ProjectStorage;
  readonly #events: FileEvents | undefined;
  readonly #locks = new Map<string, Promise<void>>();
  readonly #disk: DiskQuota | undefined;
  readonly #ownerOf: ((projectId: string) => { uid: number; gid: number } | undefined) | undefined;

  constructor(
    projects: ProjectService,
    storage: ProjectStorage,
    options: {
      limits?: Partial<FileLimits>;
      events?: FileEvents;
      /** The uid sandboxed code of a project runs as; what Kiln writes is handed to it. */
      ownerOf?: (projectId: string) => { uid: number; gid: number } | undefined;
      /** The per-project disk quota: a write that would cross it is refused. */
      disk?: DiskQuota;
    } = {},
  ) {
    this.#disk = options.disk;
    this.#ownerOf = options.ownerOf;
    this.#projects = projects;
    this.#storage = storage;
    this.#events = options.events;
    this.limits = { ...DEFAULT_FILE_LIMITS, ...options.limits };
  }

  async tree(access: OrgAccess, projectRef: string, query: FileTreeQuery): Promise<FileTree> {
    const { root } = await this.#open(access, projectRef, "projects.read");
    const requested = query.path ?? "";
    const dir = await this.#openListable(root, requested);
    const max = query.maxEntries ?? this.limits.treeEntries;
    const entries: FileEntry[] = [];
    let truncated = false;
    try {
      await walk(root, dir, {
        skip: (name) => !query.includeIgnored && (isGitName(name) || name === "node_modules"),
        visit: ({ path, stat }) => {
          if (entries.length >= max) {
            truncated = true;
            return false;
          }
          entries.push({
            path,
            type: typeOf(stat),
            size: stat.size,
            mtime: stat.mtime.toISOString(),
          });
          return true;
        },
      });
    } finally {
      await dir.close();
    }
    return { path: requested, entries, truncated };
  }

  /** `projectRef` may be a project the caller already looked up for this access (no second lookup). */
  async read(
    access: OrgAccess,
    projectRef: string | { id: string },
    query: ReadFileQuery,
  ): Promise<FileContent> {
    const { root } = await this.#open(access, projectRef, "projects.read");
    const segments = parsePath(query.path);
    assertNotReserved(segments);
    const target = await root.canonical(segments, { followFinal: true });
    assertNotReserved(target.segments);
    if (!target.exists) throw fileNotFound(query.path);
    const ranged = query.startLine !== undefined || query.endLine !== undefined;
    if (ranged && query.encoding === "base64") {
      throw new ValidationError("startLine/endLine apply to text, not to encoding=base64");
    }
    const dir = await root.openDir(target.segments.slice(0, -1));
    let bytes: Buffer;
    let mtime: Date;
    try {
      const handle = await openFileForRead(dir, target.segments.at(-1)!, query.path);
      try {
        const stat = await handle.stat();
        if (stat.size > this.limits.maxFileBytes) throw fileTooLarge(query.path, this.limits.maxFileBytes);
        bytes = await handle.readFile();
        // It may have grown between fstat and read.
        if (bytes.length > this.limits.maxFileBytes) throw fileTooLarge(query.path, this.limits.maxFileBytes);
        mtime = stat.mtime;
      } finally {
        await handle.close();
      }
    } finally {
      await dir.close();
    }
    const base = {
      path: query.path,
      size: bytes.length,
      mtime: mtime.toISOString(),
      version: versionOf(bytes),
    };
    const text = query.encoding === "base64" ? undefined : asText(bytes);
    if (text === undefined) {
      if (query.encoding === "utf8" || ranged) {
        throw new KilnError("file_binary", `${query.path} is not UTF-8 text; read it with encoding=base64`);
      }
      return { ...base, encoding: "base64", content: bytes.toString("base64") };
    }
    const lines = text.split("\n");
    // A final newline ends the last line; it does not start another.
    const totalLines = text === "" ? 0 : text.endsWith("\n") ? lines.length - 1 : lines.length;
    if (!ranged) return { ...base, encoding: "utf8", content: text, totalLines };
    const startLine = query.startLine ?? 1;
    const endLine = Math.min(query.endLine ?? totalLines, totalLines);
    if (query.endLine !== undefined && query.endLine < startLine) {
      throw new ValidationError("endLine must not be before startLine");
    }
    const content = startLine > endLine ? "" : lines.slice(startLine - 1, endLine).join("\n");
    return {
      ...base,
      encoding: "utf8",
      content,
      totalLines,
      startLine,
      endLine: Math.max(endLine, startLine - 1),
    };
  }

  async write(access: OrgAccess, projectRef: string, body: WriteFileBody): Promise<FileInfo> {
    return (await this.writeReporting(access, projectRef, body)).info;
  }

  /**
   * `write`, also saying whether the file is new (the agent's tool reports it without a second lookup).
   * `projectRef` may be a project the caller already looked up for this access, as for `read`.
   */
  async writeReporting(
    access: OrgAccess,
    projectRef: string | { id: string },
    body: WriteFileBody,
    options: { previous?: boolean } = {},
  ): Promise<{ info: FileInfo; created: boolean; previous?: string }> {
    const { root, projectId } = await this.#open(access, projectRef, "projects.write");
    const segments = parsePath(body.path);
    assertNotReserved(segments);
    const bytes = body.encoding === "base64" ? decodeBase64(body.content) : Buffer.from(body.content, "utf8");
    if (!bytes) throw new ValidationError("content is not valid base64");
    if (bytes.length > this.limits.maxFileBytes) throw fileTooLarge(body.path, this.limits.maxFileBytes);
    await this.#disk?.assertRoom(access.org.id, projectId, bytes.length);
    const target = await root.canonical(segments, { followFinal: true });
    assertNotReserved(target.segments);
    const name = target.segments.at(-1)!;
    const dir = await root
      .openDir(target.segments.slice(0, -1), { create: body.createParents })
      .catch((err: unknown) => {
        if (err instanceof KilnError && err.code === "file_not_found") {
          throw new KilnError(
            "file_not_found",
            `the parent directory of ${body.path} does not exist; pass createParents`,
          );
        }
        throw err;
      });
    let mtime: Date;
    let created = false;
    let previous: string | undefined;
    // One write per file at a time in this process, so an expectedVersion check and its rename cannot
    // interleave with another API write (two tabs, or the agent and the editor).
    const unlock = await this.#lock(`${projectId}/${joinSegments(target.segments)}`);
    try {
      const existing = await lstatOrUndefined(dir.child(name));
      if (existing?.isDirectory()) throw isADirectory(body.path);
      // canonical() followed any link; one here now was planted since.
      if (existing?.isSymbolicLink()) throw outsideProject(body.path);
      if (existing && !existing.isFile()) throw new PathError(`${body.path} is not a regular file`);
      created = !existing;
      if (existing && body.createOnly) {
        throw new KilnError("file_exists", `${body.path} already exists`);
      }
      if (body.expectedVersion !== undefined) {
        const current = existing ? await this.#versionAt(dir, name, body.path) : null;
        if (current !== body.expectedVersion) {
          throw new KilnError("file_changed", `${body.path} changed since it was read`, {
            details: { expectedVersion: body.expectedVersion, currentVersion: current },
          });
        }
      }
      // What the write replaces, for the agent's diff: read through the verified directory, never following
      // a link planted since the lstat (that reads as nothing); text within the read limit only.
      if (options.previous && existing && existing.size <= this.limits.maxFileBytes) {
        previous = await readPreviousText(dir, name, body.path, this.limits.maxFileBytes);
      }
      // A new inode owned by the project's user from the start; an existing file — maybe a hard link
      // shared with the dependency cache — is replaced, never written into or chowned.
      const written = await atomicWrite(
        dir,
        name,
        bytes,
        existing ? existing.mode & 0o777 : 0o644,
        root.owner,
      ).catch((err) => {
        // Code in the sandbox may have put a directory there since the check: a 4xx, not a 500.
        throw mapFsError(err, body.path);
      });
      mtime = written.mtime;
    } finally {
      unlock();
      await dir.close();
    }
    this.#disk?.noteWrite(access.org.id, projectId, bytes.length);
    this.#emit(access, projectId, "written", [joinSegments(target.segments)]);
    const info: FileInfo = {
      path: body.path,
      type: "file",
      size: bytes.length,
      mtime: mtime.toISOString(),
      version: versionOf(bytes),
    };
    return previous === undefined ? { info, created } : { info, created, previous };
  }

  async move(access: OrgAccess, projectRef: string, body: MoveFileBody): Promise<FileInfo> {
    const { root, projectId } = await this.#open(access, projectRef, "projects.write");
    const fromSegments = parsePath(body.from);
    const toSegments = parsePath(body.to);
    assertNotReserved(fromSegments);
    assertNotReserved(toSegments);
    // The link itself moves, not its target; a link can never carry anything out of the project.
    const from = await root.canonical(fromSegments, { followFinal: false });
    const to = await root.canonical(toSegments, { followFinal: false });
    assertNotReserved(from.segments);
    assertNotReserved(to.segments);
    if (!from.exists) throw fileNotFound(body.from);
    const fromPath = joinSegments(from.segments);
    const toPath = joinSegments(to.segments);
    if (toPath === fromPath) return this.#info(root, to.segments, body.to);
    if (toPath.startsWith(`${fromPath}/`)) throw new PathError("cannot move a directory into itself");
    const fromDir = await root.openDir(from.segments.slice(0, -1));
    try {
      const toDir = await root.openDir(to.segments.slice(0, -1), { create: body.createParents });
      try {
        const source = fromDir.child(from.segments.at(-1)!);
        const destination = toDir.child(to.segments.at(-1)!);
        if (!(await lstatOrUndefined(source))) throw fileNotFound(body.from);
        const existing = await lstatOrUndefined(destination);
        if (existing && !body.overwrite) throw new KilnError("file_exists", `${body.to} already exists`);
        if (existing?.isDirectory()) throw isADirectory(body.to);
        await rename(source, destination).catch((err) => {
          if (fsCode(err) === "EINVAL") throw new PathError("cannot move a directory into itself");
          if (fsCode(err) === "ENOTDIR" || fsCode(err) === "EISDIR") throw isADirectory(body.to);
          throw err;
        });
      } finally {
        await toDir.close();
      }
    } finally {
      await fromDir.close();
    }
    // A rename keeps owners: nothing to hand over (a directory it created on the way was, as it was made).
    this.#emit(access, projectId, "moved", [fromPath, toPath]);
    return this.#info(root, to.segments, body.to);
  }

  async delete(access: OrgAccess, projectRef: string, query: DeleteFileQuery): Promise<void> {
    const { root, projectId } = await this.#open(access, projectRef, "projects.write");
    const segments = parsePath(query.path);
    assertNotReserved(segments);
    // A link is deleted itself; what it points to is never touched.
    const target = await root.canonical(segments, { followFinal: false });
    assertNotReserved(target.segments);
    if (!target.exists) throw fileNotFound(query.path);
    const parent = await root.openDir(target.segments.slice(0, -1));
    try {
      const victim = parent.child(target.segments.at(-1)!);
      const stat = await lstatOrUndefined(victim);
      if (!stat) throw fileNotFound(query.path);
      if (!stat.isDirectory()) await unlink(victim);
      else if (query.recursive) await this.#removeTree(parent, target.segments.at(-1)!, root, query.path);
      else {
        await rmdir(victim).catch((err) => {
          if (fsCode(err) === "ENOTEMPTY" || fsCode(err) === "EEXIST") {
            throw new KilnError("directory_not_empty", `${query.path} is not empty; pass recursive=true`);
          }
          throw err;
        });
      }
    } finally {
      await parent.close();
    }
    this.#emit(access, projectId, "deleted", [joinSegments(target.segments)]);
  }

  async mkdir(access: OrgAccess, projectRef: string, body: MakeDirectoryBody): Promise<FileInfo> {
    const { root, projectId } = await this.#open(access, projectRef, "projects.write");
    const segments = parsePath(body.path);
    assertNotReserved(segments);
    const target = await root.canonical(segments, { followFinal: true });
    assertNotReserved(target.segments);
    if (target.exists && !body.parents) throw new KilnError("file_exists", `${body.path} already exists`);
    if (body.parents) {
      const dir = await root.openDir(target.segments, { create: true });
      await dir.close();
    } else {
      const parent = await root.openDir(target.segments.slice(0, -1));
      try {
        const made = await root.makeDir(parent, target.segments.at(-1)!).catch((err) => {
          if (fsCode(err) === "EEXIST") throw new KilnError("file_exists", `${body.path} already exists`);
          throw err;
        });
        await made.close();
      } finally {
        await parent.close();
      }
    }
    this.#emit(access, projectId, "directory-created", [joinSegments(target.segments)]);
    return this.#info(root, target.segments, body.path);
  }

  async search(access: OrgAccess, projectRef: string, query: SearchFilesQuery): Promise<SearchResult> {
    const { root } = await this.#open(access, projectRef, "projects.read");
    const dir = await this.#openListable(root, query.path ?? "");
    try {
      return await searchFiles(
        root,
        dir,
        {
          query: query.query,
          mode: query.mode ?? "content",
          regex: query.regex ?? false,
          caseSensitive: query.caseSensitive ?? false,
          includeIgnored: query.includeIgnored ?? false,
          maxResults: query.maxResults ?? 200,
        },
        {
          maxFileBytes: this.limits.searchFileBytes,
          maxScanBytes: this.limits.searchScanBytes,
          regexTimeoutMs: this.limits.regexTimeoutMs,
        },
      );
    } finally {
      await dir.close();
    }
  }

  /** The directory to watch for a project's file events; the same check as listing its tree. */
  async watchTarget(access: OrgAccess, projectRef: string): Promise<{ projectId: string; dir: string }> {
    requirePermission(access.role, "projects.read");
    const project = await this.#projects.get(access, projectRef);
    return { projectId: project.id, dir: this.#storage.projectDir(access.org.id, project.id) };
  }

  async #open(access: OrgAccess, projectRef: string | { id: string }, permission: Permission) {
    requirePermission(access.role, permission);
    const project =
      typeof projectRef === "string" ? await this.#projects.get(access, projectRef) : projectRef;
    const root = await ProjectRoot.open(
      this.#storage.projectDir(access.org.id, project.id),
      this.#ownerOf?.(project.id),
    );
    return { root, projectId: project.id };
  }

  async #openListable(root: ProjectRoot, requested: string) {
    const segments = parsePath(requested, { allowRoot: true });
    assertNotReserved(segments);
    const target = await root.canonical(segments, { followFinal: true });
    assertNotReserved(target.segments);
    if (!target.exists) throw fileNotFound(requested);
    return root.openDir(target.segments);
  }

  /** Waits for earlier holders of `key`; returns the release function. */
  async #lock(key: string): Promise<() => void> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#locks.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    };
  }

  async #versionAt(dir: Dir, name: string, shown: string): Promise<string> {
    const handle = await openFileForRead(dir, name, shown);
    try {
      return versionOf(await handle.readFile());
    } finally {
      await handle.close();
    }
  }

  async #info(root: ProjectRoot, segments: string[], shown: string): Promise<FileInfo> {
    const parent = await root.openDir(segments.slice(0, -1));
    try {
      // Changed by code in the sandbox since the operation: answered like any path that is not there.
      const stat = await lstat(parent.child(segments.at(-1)!)).catch((err) => {
        throw mapFsError(err, shown);
      });
      return {
        path: shown,
        type: typeOf(stat),
        size: stat.size,
        mtime: stat.mtime.toISOString(),
      };
    } finally {
      await parent.close();
    }
  }

  /**
   * `rm -r` of a directory in the project. Root never walks it: a subdirectory swapped for a symlink mid-walk
   * would lead root's unlinks outside. The project's own user removes it, from the verified parent.
   */
  async #removeTree(parent: Dir, name: string, root: ProjectRoot, shown: string): Promise<void> {
    if (root.owner) {
      await removeAsOwner(parent.path, [name], root.owner).catch((err) => {
        // Code in the sandbox wrote into it while it was being removed.
        if (fsCode(err) === "ENOTEMPTY") {
          throw new KilnError("directory_not_empty", `${shown} changed while it was being deleted`);
        }
        if (fsCode(err) === "EACCES") {
          throw new KilnError("forbidden", `${shown} holds files the project cannot remove`);
        }
        throw err;
      });
      return;
    }
    // No sandbox user: the unsafe-host driver runs project code as Kiln itself, so there is no boundary
    // between them for a walk to cross.
    await rm(parent.child(name), { recursive: true });
  }

  #emit(
    access: OrgAccess,
    projectId: string,
    kind: "written" | "deleted" | "moved" | "directory-created",
    paths: string[],
  ) {
    this.#events?.emit({ orgId: access.org.id, projectId, kind, paths });
  }
}

function typeOf(stat: Stats): FileType {
  if (stat.isFile()) return "file";
  if (stat.isDirectory()) return "directory";
  return stat.isSymbolicLink() ? "symlink" : "other";
}

async function readPreviousText(
  dir: Dir,
  name: string,
  where: string,
  max: number,
): Promise<string | undefined> {
  const handle = await openFileForRead(dir, name, where).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const bytes = await handle.readFile();
    return bytes.length > max ? undefined : asText(bytes);
  } finally {
    await handle.close();
  }
}
