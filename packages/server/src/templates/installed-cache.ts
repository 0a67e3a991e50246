import { lstat, realpath, stat } from "node:fs/promises";
import path from "node:path";

export type InstalledEntry = { dir: string } | { problem: string };

/**
 * The real path of an install-time cache entry (`kiln prepare-templates`, ADR 0007) Kiln may link projects
 * from, or why it must not. Every project runs the entry's files, so the whole path to it must be one that
 * only root or Kiln's own user can change: each directory from `/` down to the entry's `node_modules` owned
 * by one of them and writable by no one else (a sticky, world-writable directory such as /tmp is allowed
 * above the entry: others cannot rename or remove what is not theirs in it, and anything they create there
 * is theirs and refused). And it must be on `localRoot`'s filesystem, where hard links can reach.
 */
export async function checkInstalledEntry(entry: string, localRoot: string): Promise<InstalledEntry> {
  const me = process.getuid?.() ?? 0;
  const owners = new Set([0, me]);
  // The path as named may pass through symlinks (a checkout under a linked directory); each one must be
  // root's or Kiln's, or whoever planted it (in a sticky /tmp, say) chose which tree Kiln links from.
  const named = path.resolve(entry).split(path.sep).filter(Boolean);
  for (let i = 1; i <= named.length; i++) {
    const at = `/${named.slice(0, i).join("/")}`;
    const s = await lstat(at).catch(() => undefined);
    if (!s) return { problem: "missing" };
    if (s.isSymbolicLink() && !owners.has(s.uid)) return { problem: `${at} is a symlink of uid ${s.uid}` };
  }
  let real: string;
  try {
    real = await realpath(entry);
  } catch {
    return { problem: "missing" };
  }
  const parts = real.split(path.sep).filter(Boolean);
  const dirs = ["/", ...parts.map((_, i) => `/${parts.slice(0, i + 1).join("/")}`)];
  const own = [real, path.join(real, "node_modules")];
  for (const dir of [...dirs, own[1]!]) {
    const s = await lstat(dir).catch(() => undefined);
    if (!s?.isDirectory()) return { problem: `${dir} is not a directory` };
    if (!owners.has(s.uid)) return { problem: `${dir} belongs to uid ${s.uid}` };
    const sticky = (s.mode & 0o1000) !== 0;
    if ((s.mode & 0o022) !== 0 && (own.includes(dir) || !sticky))
      return { problem: `${dir} is writable by others (mode ${(s.mode & 0o7777).toString(8)})` };
  }
  const [a, b] = await Promise.all([stat(real), stat(localRoot)]);
  if (a.dev !== b.dev) return { problem: `on another filesystem than ${localRoot}` };
  return { dir: real };
}
