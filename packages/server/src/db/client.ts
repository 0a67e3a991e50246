import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT, PgTransactionConfig } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import pg from "pg";
import { PgliteThread } from "./pglite-remote.ts";
import { isDatabaseUnavailable } from "./unavailable.ts";

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

const CONNECT_TIMEOUT_MS = 5000;

/**
 * PGlite's own start flags plus a smaller buffer pool. Its default `shared_buffers` (128 MB, from the
 * data dir's postgresql.conf) lives inside the WASM heap and is touched at start: about 120 MB of the
 * server's idle RSS, and part of the open time. The files under it sit in the OS page cache anyway (PGlite
 * reads them through the real file system), so a small pool costs little. A start flag, not the conf file:
 * PGlite's `postgresqlconf` option replaces the whole file (its timezone and locale lines too).
 */
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

const SCHEMA_NAME = /^org_[a-z][a-z0-9_]{1,38}$/;

export function assertSchemaName(name: string): string {
  // Schema names reach SQL as identifiers, never as parameters; this check is what keeps that safe.
  if (!SCHEMA_NAME.test(name)) throw new Error(`invalid tenant schema name: ${JSON.stringify(name)}`);
  return name;
}

// public stays second so shared tables (users, orgs) resolve too; tenant and shared table names never
// overlap (a test checks), so a tenant name can never silently land on a shared table.
const tenantPathSql = (schemaName: string) =>
  `SET LOCAL search_path TO "${assertSchemaName(schemaName)}", public`;

export async function setTenantPath(tx: Executor, schemaName: string): Promise<void> {
  await tx.execute(sql.raw(tenantPathSql(schemaName)));
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
  /** PGlite on the calling thread instead of its own (benchmarks compare the two). */
  pgliteInProcess?: boolean | undefined;
  poolSize?: number;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // A server that does not answer (a host gone from the network) fails the request instead of hanging it.
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    // A connection that breaks (a server restart, a fail-over) emits 'error' on its client, and an 'error'
    // nobody listens to ends the process. The pool listens only while a client is idle; a client checked
    // out for a transaction, between two queries, has nobody. Every client gets a listener for its whole
    // life: the query in flight fails by itself, and the pool drops the broken client when it is released.
    pool.on("connect", (client) => client.on("error", () => {}));
    pool.on("error", () => {});
    const db = drizzlePg({ client: pool });
    // Drizzle's own pool transaction sends BEGIN before its try/finally: a BEGIN that fails (the connection
    // died while idle) never gives its client back, and after a few outages the pool is empty for good.
    // Here the client is taken and given back by us, whatever fails, and a broken one is dropped.
    Object.defineProperty(db, "transaction", {
      value: async (fn: (tx: unknown) => Promise<unknown>, config?: PgTransactionConfig) => {
        const client = await pool.connect();
        let failure: unknown;
        try {
          return await drizzlePg({ client }).transaction(fn as never, config);
        } catch (err) {
          failure = err;
          throw err;
        } finally {
          client.release(isDatabaseUnavailable(failure) ? (failure as Error) : undefined);
        }
      },
    });
    return wrap("postgres", db as unknown as Executor, () => pool.end());
  }
  if (options.pgliteDir) await mkdir(options.pgliteDir, { recursive: true });
  // In a thread of its own (ADR 0022), unless asked not to.
  const client = options.pgliteInProcess
    ? await PGlite.create({
        ...(options.pgliteDump
          ? { loadDataDir: options.pgliteDump }
          : { dataDir: options.pgliteDir ?? "memory://" }),
        startParams: PGLITE_START_PARAMS,
      })
    : await PgliteThread.open({
        ...(options.pgliteDump
          ? { dump: await options.pgliteDump.arrayBuffer() }
          : { dataDir: options.pgliteDir ?? "memory://" }),
        startParams: PGLITE_START_PARAMS,
      });
  const db = drizzlePglite({ client: client as unknown as PGlite }) as unknown as Executor;
  const wrapped = wrap("pglite", db, () => client.close());
  if (client instanceof PgliteThread) {
    // The search path travels with the transaction's begin (PgliteThread.prelude): one round trip less.
    wrapped.tenant = (schemaName, fn) => {
      let prelude: { sql: string; taken: boolean };
      try {
        prelude = { sql: tenantPathSql(schemaName), taken: false };
      } catch (error) {
        return Promise.reject(error);
      }
      client.prelude = prelude;
      try {
        return db.transaction(async (tx) => {
          const ex = tx as unknown as Executor;
          if (!prelude.taken) await setTenantPath(ex, schemaName);
          return fn(ex);
        });
      } finally {
        // Taken synchronously by Drizzle's call, or not at all: never left for another transaction.
        if (client.prelude === prelude) client.prelude = undefined;
      }
    };
  }
  return { ...wrapped, dump: () => client.dumpDataDir("none") };
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
