import { randomBytes } from "node:crypto";
import { constants, existsSync, type Stats } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readlink, realpath, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { KilnError } from "../errors/errors.ts";
import type { Owner } from "../sandbox/workspace-owner.ts";
import { isInside, joinSegments, PathError, segmentsBelow } from "./paths.ts";

/**
 * The second half of the file API's security boundary: where a checked path really leads on disk.
 *
 * 1. `canonical()` resolves a path the way the kernel would, following a symlink only while its real path
 *    stays inside the project. That decides what the client meant (an in-project symlink works like its target).
 * 2. Every operation then walks the canonical segments again, one directory descriptor at a time, opening each
 *    with O_NOFOLLOW|O_DIRECTORY and reading back where the descriptor really is (`/proc/self/fd/N`). The final
 *    step (open, mkdir, rename, unlink) goes through that verified descriptor's magic link, like `openat`:
 *    a directory swapped for a symlink by code running in the project between check and use makes the
 *    operation fail, never escape (TOCTOU). Without /proc (not Linux) the walk falls back to checked paths.
 * 3. What Kiln creates gets the project's sandbox owner through its own descriptor as it is made: a new
 *    directory is opened O_NOFOLLOW, verified and fchown-ed; a file is written to an O_EXCL temp file that is
 *    fchown-ed before it is renamed into place. Nothing is ever chowned by path afterwards, and an existing
 *    file (maybe a hard link shared with the dependency cache, ADR 0007) is replaced, never written into.
 */

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const PROC_FD = existsSync("/proc/self/fd") ? "/proc/self/fd" : undefined;

export function fsCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

export const outsideProject = (p: string) =>
  new KilnError("path_outside_project", `${p || "/"} leads outside the project`);
export const fileNotFound = (p: string) => new KilnError("file_not_found", `no such file or directory: ${p}`);
export const notADirectory = (p: string) => new KilnError("not_a_directory", `not a directory: ${p}`);
export const isADirectory = (p: string) => new KilnError("is_a_directory", `is a directory: ${p}`);

/** A directory opened without following symlinks and verified to lie inside the project. */
export class Dir {
  readonly handle: FileHandle | undefined;
  /** What to hand to path-based fs calls: the descriptor's magic link, or the checked path without /proc. */
  readonly path: string;
  readonly segments: string[];

  constructor(handle: FileHandle | undefined, dirPath: string, segments: string[]) {
    this.handle = handle;
    this.path = dirPath;
    this.segments = segments;
  }

  child(name: string): string {
    return `${this.path}/${name}`;
  }

  async close(): Promise<void> {
    await this.handle?.close();
  }
}

export class ProjectRoot {
  readonly real: string;
  /** The project's sandbox user, who owns what Kiln creates in its tree. */
  readonly owner: Owner | undefined;

  constructor(real: string, owner?: Owner) {
    this.real = real;
    this.owner = owner;
  }

  static async open(dir: string, owner?: Owner): Promise<ProjectRoot> {
    try {
      return new ProjectRoot(await realpath(dir), owner);
    } catch (err) {
      if (fsCode(err) === "ENOENT") throw fileNotFound("");
      throw err;
    }
  }

  /**
   * Canonical segments of a checked path. Symlinks are followed while their real path stays inside; the last
   * segment only when `followFinal` (delete and move act on a link itself, which can never reach outside).
   */
  async canonical(
    segments: readonly string[],
    options: { followFinal: boolean },
  ): Promise<{ segments: string[]; exists: boolean }> {
    let current = this.real;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const last = i === segments.length - 1;
      const where = joinSegments(segments.slice(0, i + 1));
      const next = path.join(current, segment);
      let stat: Stats;
      try {
        stat = await lstat(next);
      } catch (err) {
        if (fsCode(err) === "ENOENT") {
          return { segments: [...segmentsBelow(this.real, current), ...segments.slice(i)], exists: false };
        }
        if (fsCode(err) === "ENOTDIR") throw notADirectory(joinSegments(segments.slice(0, i)));
        throw err;
      }
      if (stat.isSymbolicLink() && (!last || options.followFinal)) {
        let target: string;
        try {
          target = await realpath(next);
        } catch (err) {
          if (fsCode(err) === "ENOENT") throw new KilnError("file_not_found", `${where}: dangling symlink`);
          if (fsCode(err) === "ELOOP") throw new PathError(`${where}: symlink loop`);
          throw err;
        }
        if (!isInside(this.real, target)) throw outsideProject(where);
        current = target;
        continue;
      }
      if (!last && !stat.isDirectory()) throw notADirectory(where);
      current = next;
    }
    return { segments: segmentsBelow(this.real, current), exists: true };
  }

  /** Opens canonical `segments` as a verified directory; `create` makes missing ones (mkdir -p). */
  async openDir(segments: readonly string[], options: { create?: boolean } = {}): Promise<Dir> {
    let dir = await this.#verify(await open(this.real, O_RDONLY | O_DIRECTORY), []);
    try {
      for (let i = 0; i < segments.length; i++) {
        const here = segments.slice(0, i + 1);
        const next = dir.child(segments[i]!);
        let child: Dir;
        try {
          child = await this.#verify(await openDirNoFollow(next, joinSegments(here)), here);
        } catch (err) {
          if (!(err instanceof KilnError) || err.code !== "file_not_found" || !options.create) throw err;
          child = await this.makeDir(dir, segments[i]!, { existing: true });
        }
        await dir.close();
        dir = child;
      }
      return dir;
    } catch (err) {
      await dir.close();
      throw err;
    }
  }

  /**
   * Creates directory `name` in `parent` and opens it as a verified directory, given to the project's owner
   * through that descriptor. `existing: true` accepts one made meanwhile by someone else (mkdir -p); it is
   * then only opened — whatever it is, it is verified to lie inside the project.
   */
  async makeDir(parent: Dir, name: string, options: { existing?: boolean } = {}): Promise<Dir> {
    const here = [...parent.segments, name];
    let created = true;
    await mkdir(parent.child(name), { mode: 0o755 }).catch((err) => {
      if (fsCode(err) === "EEXIST" && options.existing) created = false;
      else throw mapFsError(err, joinSegments(here));
    });
    const dir = await this.#verify(await openDirNoFollow(parent.child(name), joinSegments(here)), here);
    if (created && this.owner && dir.handle) {
      try {
        await dir.handle.chown(this.owner.uid, this.owner.gid);
      } catch (err) {
        await dir.close();
        throw err;
      }
    }
    return dir;
  }

  /** Opens a verified directory's child directory (tree and search walks), never following a symlink. */
  async openChildDir(parent: Dir, name: string): Promise<Dir> {
    const here = [...parent.segments, name];
    const handle = await openDirNoFollow(parent.child(name), joinSegments(here));
    return this.#verify(handle, here);
  }

  async #verify(handle: FileHandle, segments: string[]): Promise<Dir> {
    if (!PROC_FD) return new Dir(handle, path.join(this.real, ...segments), segments);
    const link = `${PROC_FD}/${handle.fd}`;
    const real = await readlink(link).catch(async (err) => {
      await handle.close();
      throw err;
    });
    if (!isInside(this.real, real)) {
      await handle.close();
      throw outsideProject(joinSegments(segments));
    }
    return new Dir(handle, link, segments);
  }
}

async function openDirNoFollow(p: string, where: string): Promise<FileHandle> {
  try {
    return await open(p, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    // Linux answers ENOTDIR, not ELOOP, for a symlink opened with O_DIRECTORY|O_NOFOLLOW.
    if (fsCode(err) === "ENOTDIR" && (await lstatOrUndefined(p))?.isSymbolicLink())
      throw outsideProject(where);
    throw mapFsError(err, where);
  }
}

/** Errors of a no-follow walk over canonical segments. A symlink here was put there after `canonical()`. */
export function mapFsError(err: unknown, where: string): unknown {
  switch (fsCode(err)) {
    case "ENOENT":
      return fileNotFound(where);
    case "ENOTDIR":
      return notADirectory(where);
    case "ELOOP":
      return outsideProject(where);
    case "EISDIR":
      return isADirectory(where);
    default:
      return err;
  }
}

export async function lstatOrUndefined(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if (fsCode(err) === "ENOENT") return undefined;
    throw err;
  }
}

/**
 * Opens a regular file for reading without following a symlink. O_NONBLOCK, so a FIFO planted in the project
 * cannot hang the request; anything but a regular file is refused after fstat.
 */
export async function openFileForRead(dir: Dir, name: string, where: string): Promise<FileHandle> {
  const handle = await open(dir.child(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((err) => {
    throw mapFsError(err, where);
  });
  const stat = await handle.stat();
  if (stat.isFile()) return handle;
  await handle.close();
  if (stat.isDirectory()) throw isADirectory(where);
  throw new PathError(`${where} is not a regular file`);
}

/**
 * Writes `name` in `dir` atomically: a uniquely named temp file in the same directory, synced, then renamed
 * over the target. Readers see the old content or the new, never a part; a failure leaves no temp file.
 * Not synced to disk (see below).
 */
export async function atomicWrite(
  dir: Dir,
  name: string,
  bytes: Buffer,
  mode: number,
  owner: Owner | undefined,
): Promise<Stats> {
  const temp = `.${name.slice(0, 180)}.kiln-${randomBytes(6).toString("hex")}.tmp`;
  const tempPath = dir.child(temp);
  let handle: FileHandle | undefined;
  try {
    // O_EXCL: always a new inode of our own, so the fchown below can only ever reach this file.
    handle = await open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    await handle.writeFile(bytes);
    if (owner) await handle.chown(owner.uid, owner.gid);
    await handle.chmod(mode);
    // No fsync: 2-4 ms a write on ext4 (tens under load), the bulk of an agent's write_file. The rename is
    // atomic and ext4 (auto_da_alloc) writes a file's blocks before a rename over an existing one commits,
    // so a crash leaves the old content or the new; what was written in the last seconds before a power
    // loss may be lost, as with any editor or with the sandbox's own writes (ADR 0020).
    const stat = await handle.stat();
    await handle.close();
    handle = undefined;
    // The rename replaces the directory entry: a target that is a hard link keeps its inode untouched.
    await rename(tempPath, dir.child(name));
    return stat;
  } catch (err) {
    await handle?.close().catch(() => {});
    await unlink(tempPath).catch(() => {});
    throw err;
  }
}

/**
 * Creates `name` in `dir` (which must not have it) from `source`, given to `owner` through its own descriptor
 * before a byte is written: O_EXCL|O_NOFOLLOW, so it is always a new inode of ours. More than `maxBytes`
 * fails; a failure removes the partial file.
 */
export async function createFile(
  dir: Dir,
  name: string,
  source: AsyncIterable<Buffer>,
  options: { mode: number; owner: Owner | undefined; maxBytes: number; where: string },
): Promise<number> {
  const target = dir.child(name);
  const handle = await open(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, options.mode).catch((err) => {
    throw mapFsError(err, options.where);
  });
  let size = 0;
  try {
    if (options.owner) await handle.chown(options.owner.uid, options.owner.gid);
    await handle.chmod(options.mode);
    for await (const chunk of source) {
      size += chunk.length;
      if (size > options.maxBytes) throw new KilnError("payload_too_large", `${options.where} is too large`);
      await handle.write(chunk);
    }
    await handle.close();
    return size;
  } catch (err) {
    await handle.close().catch(() => {});
    await unlink(target).catch(() => {});
    throw err;
  }
}
