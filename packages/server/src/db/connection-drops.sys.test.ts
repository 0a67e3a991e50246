import { sql } from "drizzle-orm";
import type { FastifyBaseLogger } from "fastify";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { type PgCluster, startPgCluster } from "../testing/pg-cluster.ts";
import { type Database, openDatabase, query } from "./client.ts";
import { NotifyChannel } from "./notify-channel.ts";

/**
 * Issue #20 "Database outages": every kind of connection Kiln holds to PostgreSQL — an idle pool client, a
 * client checked out by a transaction, a client in the middle of a query, the LISTEN connection — is cut
 * from the server side, then the whole server restarts (fast and immediate). The process must survive each
 * (no uncaught exception, no unhandled rejection), the operations caught in the middle must reject, and
 * afterwards queries work again and the channel delivers again (it re-LISTENs by itself). Runs on a cluster
 * of its own (testing/pg-cluster.ts): the shared server on 5432 is never restarted.
 */

let cluster: PgCluster;
let database: Database;
let receiver: NotifyChannel<{ n: number }>;
let sender: NotifyChannel<{ n: number }>;
let listening = 0;
const crashes: { kind: string; error: unknown }[] = [];
const onUncaught = (error: unknown) => crashes.push({ kind: "uncaughtException", error });
const onUnhandled = (error: unknown) => crashes.push({ kind: "unhandledRejection", error });

beforeAll(async () => {
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUnhandled);
  cluster = await startPgCluster();
  database = await openDatabase({ databaseUrl: cluster.url });
  const log = pino({ level: process.env.KILN_TEST_LOG ?? "silent" }) as FastifyBaseLogger;
  const options = { channel: "kiln_drops", schema: z.object({ n: z.number() }) };
  receiver = new NotifyChannel(database, log, { ...options, onListening: () => listening++ });
  // Another origin: a channel never hands its own messages back through PostgreSQL.
  sender = new NotifyChannel(database, log, options);
  await receiver.start();
  expect(listening).toBe(1);
});

// Each test answers for its own crashes.
beforeEach(() => {
  crashes.length = 0;
});

afterAll(async () => {
  await receiver?.close();
  await sender?.close();
  await database?.close();
  await cluster?.destroy();
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onUnhandled);
});

/** One query on a connection of its own (the pool under test is never used to inspect itself). */
async function admin<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: cluster.url });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** `pg_terminate_backend` waiting for the backend to be gone, then a moment for its FATAL and FIN to arrive. */
async function terminate(pid: number): Promise<void> {
  const [row] = await admin<{ ok: boolean }>("SELECT pg_terminate_backend($1, 10000) AS ok", [pid]);
  expect(row?.ok, `backend ${pid} terminated`).toBe(true);
  await sleep(300);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function backendPid(): Promise<number> {
  const [row] = await query<{ pid: number }>(database.db, sql`SELECT pg_backend_pid() AS pid`);
  return row!.pid;
}

/** The pid of the backend running `SELECT pg_sleep(…)`, once it runs. */
function sleeperPid(): Promise<number> {
  return until("the long query to run", async () => {
    const rows = await admin<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(%'",
    );
    return rows[0]?.pid;
  });
}

type Outcome = { resolved: true } | { resolved: false; error: unknown };

/**
 * Runs `operation` once (drizzle's query builders are lazy thenables that run again on every `then`) and
 * settles at once, so a rejection is never "unhandled" while the test is busy cutting the connection.
 */
function settle(operation: PromiseLike<unknown>): Promise<Outcome> {
  return Promise.resolve(operation).then(
    () => ({ resolved: true }) as const,
    (error: unknown) => ({ resolved: false, error }) as const,
  );
}

/** The error the operation caught by the outage rejected with; fails the test when it resolved. */
async function rejection(outcome: Promise<Outcome>): Promise<Error> {
  const o = await outcome;
  expect(o.resolved, "the operation caught by the outage rejects").toBe(false);
  const error = (o as { error: unknown }).error;
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

/** The message with its causes (drizzle wraps the driver's error). */
function messages(err: unknown): string {
  const parts: string[] = [];
  for (let e = err; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.join(" <- ");
}

/** A transaction that runs one query, then waits for `resume()` before its second one. */
function heldTransaction() {
  let resume!: () => void;
  const resumed = new Promise<void>((resolve) => {
    resume = resolve;
  });
  let pid!: (value: number) => void;
  const started = new Promise<number>((resolve) => {
    pid = resolve;
  });
  const done = settle(
    database.transaction(async (tx) => {
      const [row] = await query<{ pid: number }>(tx, sql`SELECT pg_backend_pid() AS pid`);
      pid(row!.pid);
      await resumed;
      await tx.execute(sql`SELECT 1`);
    }),
  );
  return { started, resume, done };
}

/** Publishes until the receiver has the message: one published while it re-LISTENs is lost by design. */
let seq = 0;
async function delivered(): Promise<void> {
  const n = ++seq;
  let got = false;
  const off = receiver.on((message) => {
    if (message.n === n) got = true;
  });
  try {
    await until(`message ${n} through LISTEN/NOTIFY`, async () => {
      if (got) return true;
      sender.publish({ n });
      await sleep(150);
      return got ? true : undefined;
    });
  } finally {
    off();
  }
}

async function worksAgain(): Promise<void> {
  await database.ping();
  const [row] = await query<{ n: number }>(database.db, sql`SELECT 41 + 1 AS n`);
  expect(row?.n).toBe(42);
  await database.transaction(async (tx) => {
    await tx.execute(sql`SELECT 1`);
  });
  await delivered();
}

function expectNoCrash(): void {
  expect(
    crashes.map(({ kind, error }) => `${kind}: ${messages(error) || String(error)}`),
    "the process saw no uncaught exception or unhandled rejection",
  ).toEqual([]);
}

describe("connection drops", () => {
  it("delivers through LISTEN/NOTIFY before anything drops", async () => {
    await worksAgain();
    expectNoCrash();
  });

  it("an idle pool client cut by the server is replaced", async () => {
    const pid = await backendPid();
    await terminate(pid);
    expectNoCrash();
    const next = await backendPid();
    expect(next).not.toBe(pid);
    await worksAgain();
    expectNoCrash();
  });

  it("a client checked out by a transaction, cut between two queries, fails the transaction, not the process", async () => {
    const held = heldTransaction();
    const pid = await held.started;
    // Between the two queries the client belongs to the transaction: pg-pool has taken its idle 'error'
    // listener off, so the connection error arrives with nobody listening unless Kiln listens itself.
    await terminate(pid);
    held.resume();
    const err = await rejection(held.done);
    expect(messages(err)).toMatch(/terminat|not queryable|connection/i);
    expectNoCrash();
    await worksAgain();
    expectNoCrash();
  });

  it("a query cut in the middle rejects", async () => {
    const long = settle(database.db.execute(sql`SELECT pg_sleep(60)`));
    await terminate(await sleeperPid());
    const err = await rejection(long);
    expect(messages(err)).toMatch(/terminat/i);
    expectNoCrash();
    await worksAgain();
    expectNoCrash();
  });

  it("the LISTEN connection cut by the server re-LISTENs by itself", async () => {
    const before = listening;
    const [row] = await admin<{ pid: number }>(
      "SELECT pid FROM pg_stat_activity WHERE query = 'LISTEN kiln_drops' AND pid <> pg_backend_pid()",
    );
    expect(row, "the channel's LISTEN connection").toBeDefined();
    await terminate(row!.pid);
    expectNoCrash();
    await delivered();
    expect(listening).toBeGreaterThan(before);
    await worksAgain();
    expectNoCrash();
  });

  it("transactions that keep starting through restarts give every client back (none leaks from a failed BEGIN)", async () => {
    const pool = (database.db as unknown as { $client: pg.Pool }).$client;
    let going = true;
    let failed = 0;
    let committed = 0;
    // Ten loops of short transactions, so some take an idle client whose connection just died and fail
    // at BEGIN: Drizzle's own pool transaction never released such a client.
    const loops = Array.from({ length: 10 }, async () => {
      while (going) {
        await database
          .transaction((tx) => tx.execute(sql`SELECT 1`))
          .then(() => committed++)
          .catch(() => failed++);
        await sleep(2);
      }
    });
    for (const mode of ["immediate", "fast", "immediate"] as const) {
      await sleep(150);
      await cluster.restart({ mode });
    }
    await sleep(300);
    going = false;
    await Promise.all(loops);
    expect(failed).toBeGreaterThan(0);
    expect(committed).toBeGreaterThan(0);
    // Nothing is checked out any more: every client went back to the pool or was dropped.
    expect(pool.totalCount - pool.idleCount).toBe(0);
    await worksAgain();
    expectNoCrash();
  });

  for (const mode of ["fast", "immediate"] as const) {
    it(`survives a whole-server restart (${mode}) with every kind of connection open`, async () => {
      // Idle clients in the pool, a transaction between two queries, a query running, the LISTEN connection.
      await Promise.all([1, 2, 3].map(() => database.ping()));
      const held = heldTransaction();
      await held.started;
      const long = settle(database.db.execute(sql`SELECT pg_sleep(60)`));
      await sleeperPid();
      const before = listening;

      await cluster.restart({ mode });

      await rejection(long);
      held.resume();
      await rejection(held.done);
      expectNoCrash();
      await worksAgain();
      expect(listening).toBeGreaterThan(before);
      expectNoCrash();
    });
  }
});
