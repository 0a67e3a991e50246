import { lchown, lstat, readdir } from "node:fs/promises";
import path from "node:path";

/**
 * Hands a project directory to its sandbox uid — like `chown -R`, except for files with more than one hard
 * link. Those are shared with the template dependency cache and every other project made from it
 * (ADR 0007): giving one project their inode would let it rewrite them all. They stay root-owned and
 * read-only; the project can still read them, and replace them (its directories are its own).
 */
export async function chownWorkspace(
  dir: string,
  uid: number,
  gid: number,
  options: { prune?: (relPath: string) => boolean } = {},
): Promise<{ skipped: number }> {
  let skipped = 0;
  const visit = async (p: string): Promise<void> => {
    // A pruned subtree was given to the uid as it was made (linked dependencies); its top still is.
    if (p !== dir && options.prune?.(path.relative(dir, p).split(path.sep).join("/"))) return;
    const st = await lstat(p);
    if (st.isFile() && st.nlink > 1) {
      skipped++;
      return;
    }
    if (st.isDirectory()) {
      // Siblings in parallel: this walk sits on a new project's first start, and libuv's pool bounds it.
      await Promise.all((await readdir(p)).map((name) => visit(path.join(p, name))));
    }
    // A directory after its contents: the workspace root changes owner last, so "root owned" (the driver's
    // cheap check) means the whole walk finished, even if an earlier one was interrupted.
    if (st.uid !== uid || st.gid !== gid) await lchown(p, uid, gid);
  };
  await visit(dir);
  return { skipped };
}

/**
 * Gives one path Kiln just wrote (and the directories above it that Kiln created) to the project's sandbox
 * uid. Never follows a symlink, never touches a file shared by hard link, and stops at the project root.
 */
export async function ownPath(projectDir: string, relative: string, uid: number, gid: number): Promise<void> {
  let current = projectDir;
  for (const segment of relative.split("/").filter(Boolean)) {
    current = path.join(current, segment);
    const st = await lstat(current).catch(() => undefined);
    if (!st || st.isSymbolicLink()) return;
    if (st.isFile() && st.nlink > 1) return;
    if (st.uid !== uid || st.gid !== gid) await lchown(current, uid, gid);
  }
}
