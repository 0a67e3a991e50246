import { lstat, readdir, unlink } from "node:fs/promises";
import path from "node:path";
import { isNotNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { orgs } from "../db/schema-shared.ts";
import { deployments, projects } from "../db/schema-tenant.ts";
import { removeProjectTree } from "../sandbox/as-owner.ts";
import type { ArtifactManifest } from "./manifest.ts";

/** Left alone however unreferenced: a capture may be linking it, a server starting in it. */
export const COLLECT_GRACE_MS = 24 * 3_600_000;

/**
 * Housekeeping for the artifact store (ADR 0023): blobs no deployment of any org lists any more (their
 * projects were deleted), and run directories of server deployments that are gone or no longer current.
 * Only what is older than the grace period goes (a capture touches a blob it reuses). If any org cannot be
 * read, nothing is removed: what it references is unknown.
 */
export async function collectArtifacts(
  database: Database,
  store: { root: string },
  graceMs = COLLECT_GRACE_MS,
): Promise<{ blobs: number; runDirs: number } | undefined> {
  const referenced = new Set<string>();
  const current = new Set<string>();
  for (const { schemaName } of await database.db.select({ schemaName: orgs.schemaName }).from(orgs)) {
    await database.tenant(schemaName, async (tx) => {
      const rows = await tx
        .select({ artifact: deployments.artifact })
        .from(deployments)
        .where(isNotNull(deployments.artifact));
      for (const row of rows)
        for (const file of Object.values((row.artifact as ArtifactManifest).files))
          referenced.add(file.digest);
      const live = await tx
        .select({ id: projects.currentDeploymentId })
        .from(projects)
        .where(isNotNull(projects.currentDeploymentId));
      for (const { id } of live) current.add(id!);
    });
  }
  const before = Date.now() - graceMs;
  let blobs = 0;
  const blobRoot = path.join(store.root, "blobs");
  for (const shard of await readdir(blobRoot).catch(() => [] as string[])) {
    for (const name of await readdir(path.join(blobRoot, shard))) {
      if (referenced.has(name)) continue;
      const file = path.join(blobRoot, shard, name);
      const st = await lstat(file).catch(() => undefined);
      if (!st?.isFile() || st.mtimeMs > before) continue;
      await unlink(file).catch(() => {});
      blobs++;
    }
  }
  let runDirs = 0;
  const runRoot = path.join(store.root, "run");
  for (const name of await readdir(runRoot).catch(() => [] as string[])) {
    if (current.has(name)) continue;
    const dir = path.join(runRoot, name);
    const st = await lstat(dir).catch(() => undefined);
    if (!st?.isDirectory() || st.mtimeMs > before) continue;
    // Its directories belong to the project's sandbox user: removed as that user, never by root.
    await removeProjectTree(dir, { uid: st.uid, gid: st.gid });
    runDirs++;
  }
  return blobs || runDirs ? { blobs, runDirs } : undefined;
}
