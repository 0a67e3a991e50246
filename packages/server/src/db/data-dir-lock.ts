import { mkdir, open, readFile, rm } from "node:fs/promises";
import path from "node:path";

export class DataDirLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `another Kiln (pid ${pid}) is using the data directory ${dir}; embedded PGlite allows one process at a time. ` +
        "Stop it, use another KILN_DATA_DIR, or set DATABASE_URL to share a PostgreSQL between instances.",
    );
    this.name = "DataDirLockedError";
  }
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A pid file guarding the embedded database: two processes opening the same PGlite directory would corrupt
 * it. A lock left by a crashed process (its pid no longer alive) is taken over.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, "kiln.pid");
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(file, "wx", 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new DataDirLockedError(dir, pid);
      await rm(file, { force: true });
    }
  }
  throw new Error(`could not lock the data directory ${dir}`);
}
