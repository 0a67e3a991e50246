import { spawn } from "node:child_process";
import { existsSync } from "node:fs";

export interface DiskUsage {
  /** Bytes of the blocks of files the project's user owns, each inode counted once. */
  bytes: number;
  /** A directory could not be read (the walk did not see everything), e.g. one made unreadable on purpose. */
  unreadable: string | undefined;
}

const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

/**
 * Measures a project's disk use the way a per-uid quota would: the allocated blocks of every inode under
 * its directory that its sandbox user owns. Dependency files hard-linked from the template cache (ADR 0007)
 * are root's and shared, so they are not charged; a link the tenant makes to its own file is counted once.
 *
 * `find -P -xdev` walks with descriptors (fts: openat, no symlink followed, no other filesystem entered),
 * and runs as the project's uid with no groups and no capabilities: a symlink swapped in during the walk
 * leads it nowhere that uid could not read anyway.
 */
export function measureDiskUsage(
  dir: string,
  owner: { uid: number; gid: number } | undefined,
  signal?: AbortSignal,
): Promise<DiskUsage> {
  const uid = owner?.uid ?? process.getuid?.() ?? 0;
  const find = ["find", "-P", dir, "-xdev", "-uid", String(uid), "-printf", "%i %b\\n"];
  const argv =
    owner && SETPRIV
      ? [SETPRIV, `--reuid=${owner.uid}`, `--regid=${owner.gid}`, "--clear-groups", "--", ...find]
      : find;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: {}, signal });
    const inodes = new Set<string>();
    let blocks = 0;
    let rest = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const space = line.indexOf(" ");
        const inode = line.slice(0, space);
        if (inodes.has(inode)) continue;
        inodes.add(inode);
        blocks += Number(line.slice(space + 1)) || 0;
      }
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      // Files vanishing mid-walk (a build running) are expected; a directory it may not read is not.
      const denied = /^find: ['‘](.*)['’]: Permission denied$/m.exec(stderr);
      if (code !== 0 && !denied && !existsSync(dir)) {
        resolve({ bytes: 0, unreadable: undefined });
        return;
      }
      // %b counts 512-byte blocks.
      resolve({ bytes: blocks * 512, unreadable: denied ? (denied[1] ?? dir) : undefined });
    });
  });
}
