import { spawn } from "node:child_process";
import { lstat, readdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import type { Owner } from "./workspace-owner.ts";

/**
 * Removes `name` (and everything below it) from `parentDir` as the project's sandbox user: `rm -rf` runs with
 * the owner's uid/gid and `parentDir` as its working directory. libuv changes directory before it drops
 * privileges, so `parentDir` may be a verified directory descriptor's /proc magic link; from there on the
 * process can reach nothing the sandbox could not — a directory swapped for a symlink mid-walk leads it
 * only where the project's own code may already go. Root never walks a tenant's tree by path.
 */
export async function removeAsOwner(parentDir: string, names: string[], owner: Owner): Promise<void> {
  if (names.length === 0) return;
  await new Promise<void>((resolve, reject) => {
    // A directory the project made unwritable (chmod 0555) would stop rm; the owner may open it up again.
    const script = 'chmod -R u+rwx -- "$@" 2>/dev/null; exec rm -rf -- "$@"';
    const child = spawn("/bin/sh", ["-c", script, "sh", ...names.map((n) => `./${n}`)], {
      cwd: parentDir,
      uid: owner.uid,
      gid: owner.gid,
      env: { PATH: "/usr/bin:/bin", LANG: "C" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      if (stderr.length < 4000) stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (code === 0) return resolve();
      const err: NodeJS.ErrnoException = new Error(
        `rm as uid ${owner.uid} failed (${code ?? signal}): ${stderr.trim().slice(0, 500)}`,
      );
      // rm's messages (LANG=C) as an errno: EACCES for what the owner may not remove, ENOTEMPTY for a tree
      // that changed while it was removed (entries added, a file turned into a directory…).
      if (/Permission denied|Operation not permitted/.test(stderr)) err.code = "EACCES";
      else if (/cannot remove/.test(stderr)) err.code = "ENOTEMPTY";
      reject(err);
    });
  });
}

/**
 * Removes a whole project directory (project or org deletion, a failed creation). Its contents go as the
 * project's sandbox user, then root removes the emptied top from its Kiln-owned parent. A tree whose top
 * does not belong to the owner was never handed to a sandbox (the driver hands the root over last), so no
 * sandboxed code could have planted anything in it: root removes it directly. Without an owner (the
 * unsafe-host driver) there is no sandbox user and root removes it, as before.
 */
export async function removeProjectTree(dir: string, owner: Owner | undefined): Promise<void> {
  const top = await lstat(dir).catch(() => undefined);
  if (!top) return;
  if (!owner || !top.isDirectory() || top.uid !== owner.uid) {
    await rm(dir, { recursive: true, force: true });
    return;
  }
  // The project directory is the owner's own, so its entries can be removed from inside it.
  await removeAsOwner(dir, await readdir(dir), owner);
  await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
}

/** Every project directory under `projectsDir` (an org's), each removed like `removeProjectTree`. */
export async function removeProjectTrees(
  projectsDir: string,
  ownerOf: (projectId: string) => Owner | undefined,
): Promise<void> {
  const names = await readdir(projectsDir).catch(() => [] as string[]);
  for (const name of names) await removeProjectTree(path.join(projectsDir, name), ownerOf(name));
}
