import { constants, existsSync } from "node:fs";
import { type FileHandle, open, readdir, readlink } from "node:fs/promises";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const PROC_FD = existsSync("/proc/self/fd") ? "/proc/self/fd" : undefined;

export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Hands a project directory to its sandbox uid — like `chown -R`, except for files with more than one hard
 * link and for symlinks. Hard-linked files are shared with the template dependency cache and every other
 * project made from it (ADR 0007): giving one project their inode would let it rewrite them all. They stay
 * root-owned and read-only; the project can still read them, and replace them (its directories are its own).
 *
 * The walk never goes by path: every entry is opened O_NOFOLLOW relative to its parent's descriptor (the
 * descriptor's /proc magic link, like `openat`), checked with fstat on that handle and changed with fchown on
 * it. A directory swapped for a symlink by code in the sandbox while the walk runs makes that open fail; the
 * walk can never be led out of the tree or onto a shared inode.
 */
export async function chownWorkspace(
  dir: string,
  uid: number,
  gid: number,
  options: { prune?: (relPath: string) => boolean } = {},
): Promise<{ skipped: number }> {
  if (!PROC_FD) throw new Error("chownWorkspace needs /proc/self/fd (Linux)");
  const top = await open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  const real = await readlink(`${PROC_FD}/${top.fd}`);
  const stats = { skipped: 0 };
  try {
    await ownDir(top, "", { uid, gid }, options.prune, real, stats);
  } finally {
    await top.close();
  }
  return { skipped: stats.skipped };
}

async function ownDir(
  handle: FileHandle,
  rel: string,
  owner: Owner,
  prune: ((relPath: string) => boolean) | undefined,
  real: string,
  stats: { skipped: number },
): Promise<void> {
  const here = `${PROC_FD}/${handle.fd}`;
  // Still under the tree's top: a rename by the sandbox could move this directory, never outside its own tree
  // (it owns nothing else), but Kiln checks rather than trusts that.
  const where = await readlink(here);
  if (where !== real && !where.startsWith(`${real}/`)) return;
  const entries = await readdir(here, { withFileTypes: true }).catch(() => []);
  // Directories one at a time (each holds a descriptor until its contents are done), files in small batches.
  const files = entries.filter((e) => e.isFile());
  for (let i = 0; i < files.length; i += 32) {
    await Promise.all(
      files.slice(i, i + 32).map(async (entry) => {
        const file = await open(`${here}/${entry.name}`, O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch(
          () => undefined,
        );
        if (!file) return; // gone, or replaced by a symlink since readdir
        try {
          const st = await file.stat();
          if (!st.isFile()) return;
          if (st.nlink > 1) {
            stats.skipped++;
            return;
          }
          if (st.uid !== owner.uid || st.gid !== owner.gid) await file.chown(owner.uid, owner.gid);
        } finally {
          await file.close();
        }
      }),
    );
  }
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const childRel = rel ? `${rel}/${entry.name}` : entry.name;
    // A pruned subtree was given to the uid as it was made (linked dependencies); its top still is.
    if (prune?.(childRel)) continue;
    const child = await open(`${here}/${entry.name}`, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch(
      () => undefined,
    );
    if (!child) continue;
    try {
      await ownDir(child, childRel, owner, prune, real, stats);
    } finally {
      await child.close();
    }
  }
  // A directory after its contents: the workspace root changes owner last, so "root owned" (the driver's
  // cheap check) means the whole walk finished, even if an earlier one was interrupted.
  const st = await handle.stat();
  if (st.uid !== owner.uid || st.gid !== owner.gid) await handle.chown(owner.uid, owner.gid);
}
