import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, query } from "./client.ts";
import { PgliteThread } from "./pglite-remote.ts";
import { isDatabaseUnavailable } from "./unavailable.ts";

/** The embedded database in its own thread (ADR 0022), as Drizzle and Kiln use it. */

let thread: PgliteThread;
const orm = () => drizzle({ client: thread as unknown as PGlite });

/** Each test starts from this dump: a fresh database's initdb takes a second or more. */
let template: Blob;
const open = async () =>
  PgliteThread.open({ dump: await template.arrayBuffer(), startParams: PGlite.defaultStartParams });

beforeAll(async () => {
  const first = await PgliteThread.open({ dataDir: "memory://", startParams: PGlite.defaultStartParams });
  await first.query("CREATE TABLE t (id int PRIMARY KEY, v text, at timestamptz, doc jsonb, raw bytea)");
  template = await first.dumpDataDir();
  await first.close();
});
beforeEach(async () => {
  thread = await open();
});
afterEach(async () => {
  await thread.close().catch(() => {});
});

describe("PgliteThread", () => {
  it("answers Drizzle's queries with its types: dates as text, json, bytes, numbers", async () => {
    const db = orm();
    await db.execute(
      sql`INSERT INTO t VALUES (1, ${"a'b"}, '2026-01-02T03:04:05Z', ${JSON.stringify({ x: [1] })}, ${new Uint8Array([0, 255])})`,
    );
    const [row] = (await db.execute(sql`SELECT * FROM t`)).rows as Record<string, unknown>[];
    expect(row).toEqual({
      id: 1,
      v: "a'b",
      at: expect.stringMatching(/^2026-01-02 03:04:05/),
      doc: { x: [1] },
      raw: new Uint8Array([0, 255]),
    });
  });

  it("commits a transaction, and rolls back one that throws (savepoints too)", async () => {
    const db = orm();
    await db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO t (id) VALUES (1)`);
      await tx
        .transaction(async (inner) => {
          await inner.execute(sql`INSERT INTO t (id) VALUES (2)`);
          throw new Error("inner fails");
        })
        .catch(() => {});
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO t (id) VALUES (3)`);
        throw new Error("outer fails");
      }),
    ).rejects.toThrow("outer fails");
    const ids = (await db.execute(sql`SELECT id FROM t ORDER BY id`)).rows.map((r) => r.id);
    expect(ids).toEqual([1]);
  });

  it("runs transactions one at a time: another caller never sees one half done", async () => {
    const db = orm();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const first = db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO t (id) VALUES (1)`);
      await held;
      await tx.execute(sql`INSERT INTO t (id) VALUES (2)`);
    });
    await new Promise((r) => setTimeout(r, 50));
    const count = db.execute(sql`SELECT count(*)::int AS n FROM t`);
    release();
    await first;
    expect((await count).rows[0]).toEqual({ n: 2 });
  });

  it("queues a transaction's queries behind its begin: twenty at once, each whole, one failing alone", async () => {
    // Queries are sent without waiting for `begin` to be answered; the thread holds them until the
    // transaction has PGlite. Nineteen commit, one rolls back, and none sees another half done.
    const db = orm();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        db.transaction(async (tx) => {
          const before = (await tx.execute(sql`SELECT count(*)::int AS n FROM t`)).rows[0] as { n: number };
          await tx.execute(sql`INSERT INTO t (id) VALUES (${2 * i + 10})`);
          if (i === 7) throw new Error("seven fails");
          await tx.execute(sql`INSERT INTO t (id) VALUES (${2 * i + 11})`);
          const after = (await tx.execute(sql`SELECT count(*)::int AS n FROM t`)).rows[0] as { n: number };
          expect(after.n - before.n).toBe(2);
        }),
      ),
    );
    expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
    expect((await db.execute(sql`SELECT count(*)::int AS n FROM t`)).rows[0]).toEqual({ n: 38 });
  });

  it("sends a tenant transaction's search path with its begin; it never leaks into another transaction", async () => {
    const database = await openDatabase({ pgliteDump: template });
    try {
      for (const org of ["org_aa", "org_bb"]) {
        await database.db.execute(sql.raw(`CREATE SCHEMA ${org}`));
        await database.db.execute(sql.raw(`CREATE TABLE ${org}.t2 (name text)`));
        await database.db.execute(sql.raw(`INSERT INTO ${org}.t2 VALUES ('${org}')`));
      }
      const seen = await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const org = i % 2 ? "org_aa" : "org_bb";
          const plain = database.transaction(
            async (tx) => (await query<{ search_path: string }>(tx, sql`SHOW search_path`))[0]!,
          );
          const tenant = database.tenant(
            org,
            async (tx) => (await query<{ name: string }>(tx, sql`SELECT name FROM t2`))[0]?.name,
          );
          return Promise.all([Promise.resolve(org), tenant, plain]);
        }),
      );
      for (const [org, name, plain] of seen) {
        expect(name).toBe(org);
        expect(plain.search_path).not.toContain("org_");
      }
      // A bad name is refused as a rejection, before anything is sent.
      await expect(database.tenant("public; DROP TABLE t", async () => 1)).rejects.toThrow(
        /invalid tenant schema/,
      );
      expect(await query(database.db, sql`SELECT count(*)::int AS n FROM t`)).toEqual([{ n: 0 }]);
    } finally {
      await database.close();
    }
  });

  it("gives a query error its SQLSTATE and fields; the transaction it was in is rolled back", async () => {
    const db = orm();
    await db.execute(sql`INSERT INTO t (id) VALUES (1)`);
    const failed = await db
      .transaction(async (tx) => {
        await tx.execute(sql`INSERT INTO t (id) VALUES (2)`);
        await tx.execute(sql`INSERT INTO t (id) VALUES (1)`);
      })
      .catch((error: unknown) => error);
    const cause = (failed as { cause?: Record<string, unknown> }).cause;
    expect(cause).toMatchObject({ code: "23505", constraint: "t_pkey", table: "t" });
    expect(isDatabaseUnavailable(failed)).toBe(false);
    expect((await db.execute(sql`SELECT count(*)::int AS n FROM t`)).rows[0]).toEqual({ n: 1 });
  });

  it("delivers NOTIFY to listeners until they stop", async () => {
    const got: string[] = [];
    const stop = await thread.listen("kiln_test", (payload) => got.push(payload));
    await thread.query("SELECT pg_notify('kiln_test', 'one')");
    await expect.poll(() => got).toEqual(["one"]);
    await stop();
    await thread.query("SELECT pg_notify('kiln_test', 'two')");
    await thread.query("SELECT 1");
    expect(got).toEqual(["one"]);
  });

  it("dumps its data directory, and a new thread starts from the dump", async () => {
    await thread.query("INSERT INTO t (id, v) VALUES (7, 'kept')");
    const dump = await thread.dumpDataDir();
    template = dump;
    const copy = await open();
    try {
      expect((await copy.query("SELECT v FROM t")).rows).toEqual([{ v: "kept" }]);
    } finally {
      await copy.close();
    }
  });

  it("refuses a parameter that cannot cross a thread, and goes on", async () => {
    await expect(thread.query("SELECT $1", [() => 1])).rejects.toThrow();
    expect((await thread.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });

  it("after close, and after a crash mid-transaction, every call fails as 'database unavailable'", async () => {
    await thread.close();
    const closed = await thread.query("SELECT 1").catch((e: unknown) => e);
    expect(isDatabaseUnavailable(closed)).toBe(true);

    thread = await open();
    const db = orm();
    const inFlight = db
      .transaction(async (tx) => {
        await tx.execute(sql`SELECT 1`);
        await thread.terminate();
        await tx.execute(sql`SELECT 2`);
      })
      .catch((e: unknown) => e);
    expect(isDatabaseUnavailable(await inFlight)).toBe(true);
    expect(isDatabaseUnavailable(await db.execute(sql`SELECT 1`).catch((e: unknown) => e))).toBe(true);
  });
});
