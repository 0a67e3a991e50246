import { mkdtemp, readdir, readFile, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { and, eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/node-postgres";
import type { FastifyBaseLogger } from "fastify";
import pg from "pg";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, type Executor, openDatabase, setTenantPath } from "../db/client.ts";
import { auditEvents } from "../db/schema-shared.ts";
import { llmCalls } from "../db/schema-tenant.ts";
import type { OrgRow } from "../orgs/service.ts";
import { startTestKiln, type TestKiln, testDatabaseUrl, testDbKind, uniqueSlug } from "../testing/harness.ts";
import { CallLog, type CallRecord } from "./call-log.ts";
import { callOutboxFile } from "./call-outbox.ts";

/**
 * The call log's outbox against a real database that goes away: rows recorded meanwhile arrive exactly
 * once when it is back, overflow waits in the data dir across a restart, refused rows are dropped.
 */

let kiln: TestKiln;
/** A pg pool on a port nothing listens on: every query fails as during a database restart. */
let down: Database;

beforeAll(async () => {
  kiln = await startTestKiln();
  down = await openDatabase({ databaseUrl: "postgres://postgres@127.0.0.1:1/kiln", poolSize: 1 });
});
afterAll(async () => {
  await down?.close();
  await kiln?.stop();
});

async function newOrg(): Promise<OrgRow> {
  const owner = await kiln.signup();
  const org = (await owner.client.post("/api/orgs", { name: "Outbox", slug: uniqueSlug("ob") })).json();
  return (await kiln.services.orgs.access(owner.user.id, org.id)).org;
}

/** A Database handle the test points elsewhere: first at the closed port, later at the real one. */
function switchable(initial: Database): { database: Database; use(next: Database): void } {
  let current = initial;
  const database: Database = {
    kind: initial.kind,
    get db() {
      return current.db;
    },
    transaction: (fn) => current.transaction(fn),
    tenant: (schemaName, fn) => current.tenant(schemaName, fn),
    ping: () => current.ping(),
    close: async () => {},
  };
  return { database, use: (next) => (current = next) };
}

interface Logged {
  level: number;
  msg: string;
  [key: string]: unknown;
}

function capturingLog(): { log: FastifyBaseLogger; lines: Logged[] } {
  const lines: Logged[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log: log as unknown as FastifyBaseLogger, lines };
}

function call(marker: string, extra: Partial<CallRecord> = {}): CallRecord {
  return {
    messageId: marker,
    source: "chat",
    provider: "openai",
    model: "gpt-4.1-mini",
    stream: false,
    inputTokens: 1_000,
    outputTokens: 10,
    cachedInputTokens: 0,
    tokensEstimated: false,
    ttftMs: null,
    durationMs: 12,
    status: "ok",
    errorCode: null,
    errorMessage: null,
    attempts: 1,
    createdAt: new Date(),
    ...extra,
  };
}

/** The markers (message ids) of an org's rows, sorted: a missing or doubled row shows. */
async function markers(org: OrgRow): Promise<string[]> {
  const rows = await kiln.database.tenant(org.schemaName, (tx) =>
    tx.select({ messageId: llmCalls.messageId }).from(llmCalls),
  );
  return rows.map((r) => r.messageId ?? "").sort();
}

/** The calls the org's audit log names (agent.model_call), and the ids of its llm_calls rows, sorted. */
async function audited(org: OrgRow): Promise<{ audited: string[]; rows: string[] }> {
  const records = await kiln.database.db
    .select({ id: auditEvents.targetId })
    .from(auditEvents)
    .where(and(eq(auditEvents.orgId, org.id), eq(auditEvents.action, "agent.model_call")));
  const rows = await kiln.database.tenant(org.schemaName, (tx) =>
    tx.select({ id: llmCalls.id }).from(llmCalls),
  );
  return { audited: records.map((r) => r.id ?? "").sort(), rows: rows.map((r) => r.id).sort() };
}

function expected(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`).sort();
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await delay(20);
  expect(check()).toBe(true);
}

const fast = { firstMs: 10, maxMs: 50 };

/**
 * A Database on its own pg pool, as openDatabase makes one, except that every client gets an error listener:
 * a checked-out client whose connection is terminated between two queries emits "error", and without a
 * listener that is an uncaught exception (db/client.ts adds one only for idle clients).
 */
function poolDatabase(databaseUrl: string): Database {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  pool.on("error", () => {});
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = drizzle({ client: pool }) as unknown as Executor;
  return {
    kind: "postgres",
    db,
    transaction: (fn) => db.transaction((tx) => fn(tx as unknown as Executor)),
    tenant: (schemaName, fn) =>
      db.transaction(async (tx) => {
        await setTenantPath(tx as unknown as Executor, schemaName);
        return fn(tx as unknown as Executor);
      }),
    ping: async () => {
      await db.execute(sql`SELECT 1`);
    },
    close: () => pool.end(),
  };
}

async function tempDataDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), "kiln-outbox-"));
}

describe("while the database is down", () => {
  it("rows recorded meanwhile all arrive once it is back, with one log line per outage", async () => {
    const [a, b] = [await newOrg(), await newOrg()];
    const handle = switchable(down);
    const { log, lines } = capturingLog();
    const calls = new CallLog(handle.database, kiln.services.llm.prices, log, {
      dataDir: await tempDataDir(),
      retry: fast,
    });
    for (let i = 0; i < 20; i++) calls.record(i % 2 ? b : a, call(`down-${i}`));
    await until(() => lines.some((l) => l.msg.startsWith("database unavailable")));
    await delay(200); // several retries fail meanwhile
    handle.use(kiln.database);
    await calls.flush();

    const odd = expected("down", 20).filter((m) => Number(m.split("-")[1]) % 2);
    expect(await markers(b)).toEqual(odd);
    expect(await markers(a)).toEqual(expected("down", 20).filter((m) => !odd.includes(m)));
    const outage = lines.filter((l) => l.msg.startsWith("database unavailable"));
    expect(outage).toHaveLength(1);
    expect(outage[0]!.error).toMatchObject({ code: "ECONNREFUSED" });
    expect(lines.filter((l) => l.msg === "LLM call rows written after outage")).toHaveLength(1);
    await calls.close();
  });

  it("a write whose commit happened but whose answer was lost is not counted twice", async () => {
    const org = await newOrg();
    // The connection dies after COMMIT reached the server, twice: the caller sees a failure, the rows are in.
    let lost = 0;
    const lossy: Database = {
      ...kiln.database,
      db: kiln.database.db,
      tenant: async (schemaName, fn) => {
        const result = await kiln.database.tenant(schemaName, fn);
        if (lost++ < 2) throw new Error("Connection terminated unexpectedly");
        return result;
      },
    };
    const { log, lines } = capturingLog();
    const calls = new CallLog(lossy, kiln.services.llm.prices, log, {
      dataDir: await tempDataDir(),
      retry: fast,
    });
    for (let i = 0; i < 7; i++) calls.record(org, call(`amb-${i}`));
    await calls.flush();
    expect(lost).toBeGreaterThan(2);
    expect(await markers(org)).toEqual(expected("amb", 7));
    // Each call is in the audit log once too: the rows written again were not inserted, nor recorded.
    const { audited: names, rows } = await audited(org);
    expect(rows).toHaveLength(7);
    expect(names).toEqual(rows);
    expect(lines.some((l) => l.msg.startsWith("database unavailable"))).toBe(true);
    await calls.close();
  });

  it.runIf(testDbKind() === "postgres")(
    "a write cut by pg_terminate_backend mid-transaction is retried and lands once",
    async () => {
      const org = await newOrg();
      const url = new URL(await testDatabaseUrl());
      url.searchParams.set("application_name", "kiln-outbox-test");
      const pool = poolDatabase(url.toString());
      const admin = new pg.Client({ connectionString: await testDatabaseUrl() });
      await admin.connect();
      const { log, lines } = capturingLog();
      const calls = new CallLog(pool, kiln.services.llm.prices, log, {
        dataDir: await tempDataDir(),
        retry: fast,
      });
      try {
        // Hold the table so the outbox's insert waits inside its transaction, then kill its connection.
        await admin.query("BEGIN");
        await admin.query(`LOCK TABLE "${org.schemaName}".llm_calls IN ACCESS EXCLUSIVE MODE`);
        for (let i = 0; i < 5; i++) calls.record(org, call(`kill-${i}`));
        // The admin is inside a transaction, where pg_stat_activity is a snapshot unless cleared.
        const waiting = async () => {
          await admin.query("SELECT pg_stat_clear_snapshot()");
          return (
            await admin.query(
              "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'kiln-outbox-test' AND wait_event_type = 'Lock'",
            )
          ).rows[0].n as number;
        };
        for (let i = 0; i < 250 && (await waiting()) === 0; i++) await delay(20);
        expect(await waiting()).toBe(1);
        await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'kiln-outbox-test'",
        );
        await until(() => lines.some((l) => l.msg.startsWith("database unavailable")));
        await admin.query("COMMIT");
        await calls.flush();
        expect(await markers(org)).toEqual(expected("kill", 5));
        const outage = lines.find((l) => l.msg.startsWith("database unavailable"))!;
        // pg reports the termination as 57P01 or as the socket's end, whichever reaches the query first.
        expect(JSON.stringify(outage.error)).toMatch(/57P01|Connection terminated|not queryable/);
        expect(JSON.stringify(lines)).not.toContain("params:");
      } finally {
        await calls.close();
        await admin.end();
        await pool.close();
      }
    },
  );
});

describe("the outbox file", () => {
  it("takes the overflow and what is left at close; a new CallLog on the same data dir writes it", async () => {
    const org = await newOrg();
    const dataDir = await tempDataDir();
    const { log, lines } = capturingLog();
    const first = new CallLog(down, kiln.services.llm.prices, log, { dataDir, capacity: 5, retry: fast });
    for (let i = 0; i < 20; i++) first.record(org, call(`spill-${i}`));
    const file = callOutboxFile(dataDir);
    await until(() => lines.some((l) => l.msg.startsWith("database unavailable")));
    await first.close(100);
    expect(lines.some((l) => l.msg === "LLM call rows left for the next start")).toBe(true);
    const spilled = (await readFile(file, "utf8")).trim().split("\n");
    expect(spilled).toHaveLength(20);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    // A row recorded after close still goes to the file.
    first.record(org, call("spill-20"));
    await first.flush();
    expect((await readFile(file, "utf8")).trim().split("\n")).toHaveLength(21);
    expect(await markers(org)).toEqual([]);

    const second = new CallLog(kiln.database, kiln.services.llm.prices, capturingLog().log, { dataDir });
    await second.flush();
    expect(await markers(org)).toEqual(expected("spill", 21));
    expect(await readdir(path.dirname(file))).toEqual([]);
    await second.close();
  });

  it("is shared by two Kilns on one data dir (replicas): every row arrives once", async () => {
    const org = await newOrg();
    const dataDir = await tempDataDir();
    const [one, two] = [switchable(down), switchable(down)];
    const { log, lines } = capturingLog();
    const options = { dataDir, capacity: 2, retry: fast };
    const front = new CallLog(one.database, kiln.services.llm.prices, log, options);
    const back = new CallLog(two.database, kiln.services.llm.prices, log, options);
    for (let i = 0; i < 30; i++) (i % 3 ? front : back).record(org, call(`both-${i}`));
    await until(() => lines.filter((l) => l.msg.startsWith("database unavailable")).length === 2);
    one.use(kiln.database);
    two.use(kiln.database);
    await Promise.all([front.flush(), back.flush()]);
    expect(await markers(org)).toEqual(expected("both", 30));
    const { audited: names, rows } = await audited(org);
    expect(names).toEqual(rows);
    expect(await readdir(path.join(dataDir, "outbox"))).toEqual([]);
    await Promise.all([front.close(), back.close()]);
  });

  it("skips a torn line (a crash mid-append) and keeps the rows before and after it", async () => {
    const org = await newOrg();
    const dataDir = await tempDataDir();
    const before = new CallLog(down, kiln.services.llm.prices, capturingLog().log, { dataDir, retry: fast });
    for (let i = 0; i < 3; i++) before.record(org, call(`torn-${i}`));
    await before.close(50);
    const file = callOutboxFile(dataDir);
    const whole = await readFile(file, "utf8");
    await writeFile(file, `${whole}${whole.split("\n")[0]!.slice(0, 40)}`); // no newline: torn
    // The next run, still without a database, appends after the torn line.
    const during = new CallLog(down, kiln.services.llm.prices, capturingLog().log, {
      dataDir,
      capacity: 0,
      retry: fast,
    });
    for (let i = 3; i < 5; i++) during.record(org, call(`torn-${i}`));
    await during.close(50);

    const { log, lines } = capturingLog();
    const after = new CallLog(kiln.database, kiln.services.llm.prices, log, { dataDir });
    await after.flush();
    expect(await markers(org)).toEqual(expected("torn", 5));
    expect(lines.find((l) => l.msg === "LLM call rows: unreadable lines skipped")).toMatchObject({
      lines: 1,
    });
    await after.close();
  });
});

describe("rows the database refuses", () => {
  it("a deleted org's rows are dropped with a warning, others still arrive", async () => {
    const [kept, gone] = [await newOrg(), await newOrg()];
    await kiln.database.db.execute(sql.raw(`DROP SCHEMA "${gone.schemaName}" CASCADE`));
    const { log, lines } = capturingLog();
    const calls = new CallLog(kiln.database, kiln.services.llm.prices, log, {
      dataDir: await tempDataDir(),
      retry: fast,
    });
    for (let i = 0; i < 6; i++) calls.record(i % 2 ? gone : kept, call(`del-${i}`));
    await calls.flush();
    expect(await markers(kept)).toEqual(["del-0", "del-2", "del-4"]);
    const dropped = lines.filter((l) => l.msg === "LLM call rows dropped");
    expect(dropped.map((l) => [l.group, l.error])).toEqual([
      [gone.schemaName, expect.objectContaining({ code: expect.stringMatching(/^(3F000|42P01)$/) })],
    ]);
    expect(dropped[0]!.rows).toBe(3);
    expect(lines.some((l) => l.msg.startsWith("database unavailable"))).toBe(false);
    await calls.close();
  });

  it("a row with data the table refuses is dropped alone; the rest of its batch arrives", async () => {
    const org = await newOrg();
    const { log, lines } = capturingLog();
    const calls = new CallLog(kiln.database, kiln.services.llm.prices, log, { dataDir: await tempDataDir() });
    calls.record(org, call("bad-0"));
    calls.record(org, call("bad-1", { inputTokens: 2 ** 31 })); // integer out of range: 22003
    calls.record(org, call("bad-2"));
    await calls.flush();
    expect(await markers(org)).toEqual(["bad-0", "bad-2"]);
    const dropped = lines.filter((l) => l.msg === "LLM call rows dropped");
    expect(dropped).toHaveLength(1);
    expect(dropped[0]!.error).toMatchObject({ code: "22003" });
    expect(JSON.stringify(dropped)).not.toContain(String(2 ** 31));
    await calls.close();
  });
});
