import { rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { openDatabase } from "../db/client.ts";
import { migrateAll } from "../db/migrate.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A migrated PGlite data directory (tarball) every test file's in-memory database starts from. */
    pgliteTemplate: string;
  }
}

/**
 * Makes the run's PGlite template once: a new PGlite spends most of its opening on initdb (5–15 s on a loaded
 * two-core machine), which every test file's in-memory database would repeat. Each file loads this migrated
 * data directory instead (harness.ts) and gets a database of its own, as before.
 */
export default async function setup(project: TestProject) {
  const database = await openDatabase({});
  let file: string;
  try {
    await migrateAll(database);
    const dump = await database.dump!();
    file = path.join(os.tmpdir(), `kiln-pglite-template-${process.pid}-${Date.now()}.tar`);
    await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  } finally {
    await database.close();
  }
  project.provide("pgliteTemplate", file);
  return () => rm(file, { force: true });
}
