import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";

/** Anything queries can run on: the database itself or a transaction. */
export type Executor = PgDatabase<PgQueryResultHKT>;

export interface Database {
  readonly kind: "pglite" | "postgres";
  /** For queries on the shared layer (schema public) outside a transaction. */
  readonly db: Executor;
  transaction<T>(fn: (tx: Executor) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in a transaction whose unqualified table names resolve to one tenant's schema.
   * `SET LOCAL` ends with the transaction, so a pooled connection never leaks a tenant's path.
   */
  tenant<T>(schemaName: string, fn: (tx: Executor) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** PGlite only: the data directory as a tarball (`pgliteDump` opens one). */
  dump?(): Promise<Blob>;
}

const SCHEMA_NAME = /^org_[a-z][a-z0-9_]{1,38}$/;

export function assertSchemaName(name: string): string {
  // Schema names reach SQL as identifiers, never as parameters; this check is what keeps that safe.
  if (!SCHEMA_NAME.test(name)) throw new Error(`invalid tenant schema name: ${JSON.stringify(name)}`);
  return name;
}

export async function setTenantPath(tx: Executor, schemaName: string): Promise<void> {
  // public stays second so shared tables (users, orgs) resolve too; tenant and shared table names never
  // overlap (a test checks), so a tenant name can never silently land on a shared table.
  await tx.execute(sql.raw(`SET LOCAL search_path TO "${assertSchemaName(schemaName)}", public`));
}

export function rows<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

export async function query<T>(ex: Executor, q: SQL): Promise<T[]> {
  return rows<T>(await ex.execute(q));
}

export interface OpenDatabaseOptions {
  /** postgres:// URL; when absent, PGlite stores data under `pgliteDir` (or in memory when that is absent too). */
  databaseUrl?: string | undefined;
  pgliteDir?: string | undefined;
  /**
   * An in-memory PGlite started from this data directory (a `dumpDataDir()` tarball) instead of an empty one:
   * skips initdb, the costly part of opening a new PGlite. Tests start from a migrated template this way.
   */
  pgliteDump?: Blob | undefined;
  poolSize?: number;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolSize ?? 10 });
    // An idle client that errors (server restart) must not crash the process; the pool replaces it.
    pool.on("error", () => {});
    // pg-pool takes its own 'error' listener off a client while it is checked out (a transaction between two
    // queries): without this one, a connection cut then is an unhandled 'error' event and crashes the process.
    pool.on("connect", (client) => client.on("error", () => {}));
    const db = drizzlePg({ client: pool }) as unknown as Executor;
    return wrap("postgres", db, () => pool.end());
  }
  if (options.pgliteDir) await mkdir(options.pgliteDir, { recursive: true });
  const client = options.pgliteDump
    ? await PGlite.create({ loadDataDir: options.pgliteDump })
    : await PGlite.create(options.pgliteDir ?? "memory://");
  const db = drizzlePglite({ client }) as unknown as Executor;
  return { ...wrap("pglite", db, () => client.close()), dump: () => client.dumpDataDir("none") };
}

function wrap(kind: Database["kind"], db: Executor, close: () => Promise<void>): Database {
  let closed = false;
  return {
    kind,
    db,
    transaction: (fn) => db.transaction((tx) => fn(tx as unknown as Executor)),
    tenant: (schemaName, fn) =>
      db.transaction(async (tx) => {
        const ex = tx as unknown as Executor;
        await setTenantPath(ex, schemaName);
        return fn(ex);
      }),
    async ping() {
      await db.execute(sql`SELECT 1`);
    },
    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}
