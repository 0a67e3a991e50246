import { chmod, copyFile, link, lstat, mkdir, readdir, readlink, symlink } from "node:fs/promises";
import path from "node:path";

/**
 * Recreates `src` at `dest` with new directories and symlinks but hard links for files: a writable tree
 * (the project may add, remove or replace packages) that costs no file data. Files that cannot be linked
 * (another filesystem, EPERM) are copied. `copy(rel)` names files that must get their own copy because
 * tools rewrite them in place (npm's `node_modules/.package-lock.json`).
 */
export async function linkTree(
  src: string,
  dest: string,
  copy: (rel: string) => boolean = () => false,
): Promise<{ files: number; copied: number }> {
  const stats = { files: 0, copied: 0 };
  await walk(src, dest, "", copy, stats);
  return stats;
}

async function walk(
  src: string,
  dest: string,
  rel: string,
  copy: (rel: string) => boolean,
  stats: { files: number; copied: number },
): Promise<void> {
  await mkdir(dest, { mode: 0o755 });
  const entries = await readdir(src, { withFileTypes: true });
  await Promise.all(
    entries.map(async (entry) => {
      const from = path.join(src, entry.name);
      const to = path.join(dest, entry.name);
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return walk(from, to, relPath, copy, stats);
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
      await copyFile(from, to);
      // The cache's files are read-only; a private copy is the project's to change.
      await chmod(to, ((await lstat(from)).mode & 0o777) | 0o200);
    }),
  );
}
