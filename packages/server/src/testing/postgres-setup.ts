import { randomBytes } from "node:crypto";
import pg from "pg";
import type { TestProject } from "vitest/node";

/** The real PostgreSQL the suite runs against; trust auth on this kind of machine and in CI. */
export const ADMIN_URL = process.env.KILN_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/** Test files make their own databases named `<run database><infix><random>` (harness.ts). */
export const FILE_DATABASE_INFIX = "_f";

/**
 * Creates a fresh database for this run and drops it afterwards — with every per-file database made from
 * it — so runs never see each other's data.
 */
export default async function setup(project: TestProject) {
  const name = `kiln_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  project.provide("databaseUrl", url.toString());
  return async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    const { rows } = await client.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
      [`${name}${FILE_DATABASE_INFIX}`],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.end();
  };
}
