import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { link, mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Owner } from "../sandbox/workspace-owner.ts";
import type { ArtifactManifest } from "./manifest.ts";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;

/**
 * A server deployment's files laid out as a directory its sandbox runs in (`<root>/<deploymentId>`), made
 * once per deployment. Files are hard links to the store's blobs: Kiln's, mode 0644, so the app reads them
 * and cannot change them (nor, through them, another deployment). Directories belong to the project's
 * sandbox user, set on each directory's own descriptor as it is made (never chowned by path), so the app
 * may keep scratch files beside its code; the driver then has nothing to chown.
 */
export async function materialize(
  root: string,
  deploymentId: string,
  manifest: ArtifactManifest,
  blobPath: (digest: string) => string,
  owner: Owner | undefined,
): Promise<string> {
  const dir = path.join(root, deploymentId);
  if (await stat(dir).catch(() => undefined)) return dir;
  await mkdir(root, { recursive: true, mode: 0o755 });
  // Built aside and renamed in: a half-made directory is never run.
  const temp = path.join(root, `.tmp-${deploymentId}-${randomBytes(6).toString("hex")}`);
  await makeOwnedDir(temp, owner);
  const made = new Set<string>([""]);
  for (const [file, { digest }] of Object.entries(manifest.files)) {
    const parts = file.split("/");
    for (let i = 1; i < parts.length; i++) {
      const sub = parts.slice(0, i).join("/");
      if (made.has(sub)) continue;
      await makeOwnedDir(path.join(temp, sub), owner);
      made.add(sub);
    }
    await link(blobPath(digest), path.join(temp, file));
  }
  await rename(temp, dir).catch(async (err: NodeJS.ErrnoException) => {
    // Another request made it meanwhile: theirs is as good as ours (no sandbox ever saw this one).
    await rm(temp, { recursive: true, force: true });
    if (err.code !== "ENOTEMPTY" && err.code !== "EEXIST") throw err;
  });
  return dir;
}

async function makeOwnedDir(dir: string, owner: Owner | undefined): Promise<void> {
  await mkdir(dir, { mode: 0o755 });
  if (!owner) return;
  const handle = await open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  try {
    await handle.chown(owner.uid, owner.gid);
  } finally {
    await handle.close();
  }
}
