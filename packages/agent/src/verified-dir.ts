import { constants, existsSync } from "node:fs";
import { type FileHandle, lstat, mkdir, open, readlink } from "node:fs/promises";
import nodePath from "node:path";
import { WorkspaceError } from "./workspace.ts";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;
const PROC_FD = existsSync("/proc/self/fd") ? "/proc/self/fd" : undefined;

/**
 * A directory opened one segment at a time without following symlinks, then checked (via its descriptor's
 * /proc link) to lie inside the root. Operations go through `child(name)` — the descriptor's magic link —
 * like `openat`, so code in the project that swaps a directory for a symlink after the path was checked
 * makes the call fail instead of leading it outside. Without /proc (not Linux) checked paths are used.
 */
export class VerifiedDir {
  readonly #handle: FileHandle | undefined;
  readonly #path: string;

  private constructor(handle: FileHandle | undefined, path: string) {
    this.#handle = handle;
    this.#path = path;
  }

  /**
   * Opens `segments` (canonical, below `root`); `create` makes missing ones, given to `owner` (the sandbox
   * user) through the new directory's own descriptor — never chowned by path.
   */
  static async open(
    root: string,
    segments: readonly string[],
    options: { create?: boolean; owner?: { uid: number; gid: number } } = {},
  ): Promise<VerifiedDir> {
    if (!PROC_FD) {
      const path = nodePath.join(root, ...segments);
      if (options.create) await mkdir(path, { recursive: true });
      return new VerifiedDir(undefined, path);
    }
    let handle = await open(root, O_RDONLY | O_DIRECTORY);
    try {
      for (const segment of segments) {
        const next = `${PROC_FD}/${handle.fd}/${segment}`;
        let child: FileHandle;
        try {
          child = await open(next, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === "ENOENT" && options.create) {
            const created = await mkdir(next, { mode: 0o755 }).then(
              () => true,
              (e) => {
                if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
                return false;
              },
            );
            child = await open(next, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch((e) => {
              throw raced(e, segments);
            });
            // Handed over through the descriptor of what was opened, and only once that is known to lie
            // inside the root: another directory swapped in since the mkdir is never chowned.
            if (created && options.owner) {
              const made = child;
              await readlink(`${PROC_FD}/${made.fd}`)
                .then((real) => {
                  if (real !== root && !real.startsWith(`${root}/`)) throw raced(undefined, segments);
                  return made.chown(options.owner!.uid, options.owner!.gid);
                })
                .catch(async (e) => {
                  await made.close();
                  throw e;
                });
            }
          } else {
            // O_NOFOLLOW|O_DIRECTORY on a symlink fails with ELOOP or ENOTDIR; tell the two cases apart.
            const link = await lstat(next).then(
              (st) => st.isSymbolicLink(),
              () => false,
            );
            throw link ? raced(undefined, segments) : raced(err, segments);
          }
        }
        await handle.close();
        handle = child;
      }
      const real = await readlink(`${PROC_FD}/${handle.fd}`);
      if (real !== root && !real.startsWith(`${root}/`)) throw raced(undefined, segments);
      return new VerifiedDir(handle, `${PROC_FD}/${handle.fd}`);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  child(name: string): string {
    return `${this.#path}/${name}`;
  }

  /** This directory's child directory, verified the same way. */
  async openChild(name: string): Promise<VerifiedDir> {
    if (!this.#handle) return new VerifiedDir(undefined, this.child(name));
    const handle = await open(this.child(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    return new VerifiedDir(handle, `${PROC_FD}/${handle.fd}`);
  }

  get path(): string {
    return this.#path;
  }

  async close(): Promise<void> {
    await this.#handle?.close();
  }
}

function raced(err: unknown, segments: readonly string[]): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = segments.join("/") || "/";
  if (code === "ENOENT") return new WorkspaceError("file_not_found", `no such directory: ${where}`);
  if (code === "ENOTDIR")
    return new WorkspaceError("not_a_directory", `a part of ${where} is not a directory`);
  if (code === undefined || code === "ELOOP") {
    return new WorkspaceError(
      "path_outside_project",
      `${where} changed while it was being used (a symlink appeared)`,
    );
  }
  return err as Error;
}
