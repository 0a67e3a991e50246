import { spawn } from "node:child_process";
import { constants, existsSync } from "node:fs";
import { open } from "node:fs/promises";

export interface DiskUsage {
  /** Bytes of the blocks of files the project's user owns, each inode counted once. */
  bytes: number;
  /**
   * A directory (relative to the project's, "." for itself) the walk could not read, so it did not see
   * everything: e.g. one made unreadable on purpose.
   */
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
 * leads it nowhere that uid could not read anyway. It starts from a descriptor Kiln opened on the project
 * directory (handed over as fd 3), since the uid may not traverse the data directory above it.
 */
export async function measureDiskUsage(
  dir: string,
  owner: { uid: number; gid: number } | undefined,
  signal?: AbortSignal,
): Promise<DiskUsage> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { bytes: 0, unreadable: undefined };
    throw err;
  }
  try {
    return await walk(handle.fd, owner, signal);
  } finally {
    await handle.close();
  }
}

const START = "/proc/self/fd/3/";

function walk(
  fd: number,
  owner: { uid: number; gid: number } | undefined,
  signal: AbortSignal | undefined,
): Promise<DiskUsage> {
  const uid = owner?.uid ?? process.getuid?.() ?? 0;
  const find = ["find", "-P", START, "-xdev", "-uid", String(uid), "-printf", "%i %b\\n"];
  const argv =
    owner && SETPRIV
      ? [SETPRIV, `--reuid=${owner.uid}`, `--regid=${owner.gid}`, "--clear-groups", "--", ...find]
      : find;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      stdio: ["ignore", "pipe", "pipe", fd],
      env: { PATH: "/usr/bin:/bin" },
      ...(signal ? { signal } : {}),
    });
    const inodes = new Set<string>();
    let blocks = 0;
    let rest = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
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
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      // Files vanishing mid-walk (a build running) are expected. Anything else the walk could not see
      // (a directory made unreadable, a loop) fails closed: the project is not known to be under quota.
      const failed = stderr
        .split("\n")
        .map((line) => /^find: ['‘](.*)['’]: (.*)$/.exec(line))
        .find((m) => m && m[2] !== "No such file or directory");
      const unreadable = failed
        ? (failed[1] ?? "").slice(START.length).replace(/^\/+/, "") || "."
        : code !== 0 && stderr.trim() && !/No such file or directory/.test(stderr)
          ? "."
          : undefined;
      // %b counts 512-byte blocks.
      resolve({ bytes: blocks * 512, unreadable });
    });
  });
}
