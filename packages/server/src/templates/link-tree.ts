import { constants } from "node:fs";
import { copyFile, link, lstat, mkdir, open, readdir, readlink, symlink } from "node:fs/promises";
import path from "node:path";
import type { Owner } from "../sandbox/workspace-owner.ts";

/**
 * Recreates `src` at `dest` with new directories and symlinks but hard links for files: a writable tree
 * (the project may add, remove or replace packages) that costs no file data. Files that cannot be linked
 * (another filesystem, EPERM) are copied. `copy(rel)` names files that must get their own copy because
 * tools rewrite them in place (npm's `node_modules/.package-lock.json`).
 *
 * With `owner`, every directory and copied file the walk creates belongs to that uid/gid — the project's
 * sandbox user — given through its own descriptor (each directory after its contents, like
 * `chownWorkspace`), so a sandbox's first start does not walk thousands of dependency directories again.
 * The shared hard links stay root's; so do the symlinks, which the project can still replace (their
 * directories are its own).
 */
export async function linkTree(
  src: string,
  dest: string,
  options: { copy?: (rel: string) => boolean; owner?: Owner } = {},
): Promise<{ files: number; copied: number }> {
  const stats = { files: 0, copied: 0 };
  await walk(src, dest, "", { copy: options.copy ?? (() => false), owner: options.owner }, stats);
  return stats;
}

interface WalkOptions {
  copy: (rel: string) => boolean;
  owner: Owner | undefined;
}

async function walk(
  src: string,
  dest: string,
  rel: string,
  options: WalkOptions,
  stats: { files: number; copied: number },
): Promise<void> {
  const { copy, owner } = options;
  await mkdir(dest, { mode: 0o755 });
  const entries = await readdir(src, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const from = path.join(src, entry.name);
      const to = path.join(dest, entry.name);
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return walk(from, to, relPath, options, stats);
      if (entry.isSymbolicLink()) return symlink(await readlink(from), to);
      if (!entry.isFile()) return;
      stats.files++;
      if (!copy(relPath)) {
        try {
          await link(from, to);
          return;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK") throw err;
        }
      }
      stats.copied++;
      // The cache's files are read-only; a private copy is the project's to change.
      const mode = ((await lstat(from)).mode & 0o777) | 0o200;
      await copyFile(from, to, constants.COPYFILE_EXCL);
      const file = await open(to, O_RDONLY | O_NOFOLLOW);
      try {
        if (owner) await file.chown(owner.uid, owner.gid);
        await file.chmod(mode);
      } finally {
        await file.close();
      }
    }),
  );
  if (owner) {
    const dir = await open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    try {
      await dir.chown(owner.uid, owner.gid);
    } finally {
      await dir.close();
    }
  }
}

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;
