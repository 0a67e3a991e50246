import net from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { DrizzleQueryError } from "drizzle-orm/errors";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { driverError } from "./driver-error.ts";
import { isDatabaseUnavailable } from "./unavailable.ts";

/** A server error as pg's parser builds it (pg-protocol's DatabaseError with the fields it copies). */
function serverError(code: string, message: string): pg.DatabaseError {
  const err = new pg.DatabaseError(message, 100, "error");
  err.code = code;
  err.severity = "FATAL";
  return err;
}

/** As Drizzle wraps a failed query: the SQL and its parameters in the message, the driver's error as cause. */
function wrapped(cause: Error): DrizzleQueryError {
  return new DrizzleQueryError('insert into "llm_calls" ("id") values ($1)', ["secret-param"], cause);
}

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A TCP listener that does `onConnection` with every client instead of speaking PostgreSQL. */
async function fakeServer(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as net.AddressInfo).port;
}

async function failureOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

describe("isDatabaseUnavailable", () => {
  it("is true for connection-level SQLSTATEs, bare or wrapped by Drizzle", () => {
    for (const code of ["08000", "08003", "08006", "08001", "08P01", "57P01", "57P02", "57P03", "53300"]) {
      const err = serverError(code, "terminating connection due to administrator command");
      expect([code, isDatabaseUnavailable(err), isDatabaseUnavailable(wrapped(err))]).toEqual([
        code,
        true,
        true,
      ]);
    }
  });

  it("is false for query errors: syntax, missing schema or table, constraint, data, serialization", () => {
    for (const code of ["42601", "3F000", "42P01", "23505", "22P02", "40001", "57014", "53100"]) {
      const err = serverError(code, "something about the query");
      expect([code, isDatabaseUnavailable(err), isDatabaseUnavailable(wrapped(err))]).toEqual([
        code,
        false,
        false,
      ]);
    }
  });

  it("is false for what is no error of a database", () => {
    for (const value of [undefined, null, "ECONNREFUSED", 42, {}, new Error("boom")]) {
      expect(isDatabaseUnavailable(value)).toBe(false);
    }
    // A message that merely mentions a connection failure is not one.
    expect(isDatabaseUnavailable(new Error('relation "Connection terminated" does not exist'))).toBe(false);
  });

  it("knows node's socket errors by code, also inside an AggregateError", () => {
    for (const code of ["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH"]) {
      const err = Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code, errno: -111 });
      expect([code, isDatabaseUnavailable(wrapped(err))]).toEqual([code, true]);
    }
    const both = new AggregateError([
      Object.assign(new Error("connect ECONNREFUSED ::1:5432"), { code: "ECONNREFUSED" }),
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }),
    ]);
    expect(isDatabaseUnavailable(both)).toBe(true);
  });

  it("is true for a real query through Drizzle and a pg pool to a closed port", async () => {
    const pool = new pg.Pool({ connectionString: "postgres://postgres@127.0.0.1:1/kiln" });
    pool.on("error", () => {});
    try {
      const err = await failureOf(() => drizzle({ client: pool }).execute(sql`SELECT ${"secret-param"}`));
      expect(isDatabaseUnavailable(err)).toBe(true);
      // What a log gets: the driver's error, never the wrapper's message with its parameters.
      const logged = driverError(err);
      expect(logged).toMatchObject({ class: "Error", code: "ECONNREFUSED" });
      expect(JSON.stringify(logged)).not.toContain("secret-param");
    } finally {
      await pool.end();
    }
  });

  it("is true for pg's own messages: a server that hangs up, one that never answers", async () => {
    const hangsUp = await fakeServer((socket) => socket.destroy());
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${hangsUp}/kiln` });
    const terminated = await failureOf(() => client.connect());
    expect((terminated as Error).message).toBe("Connection terminated unexpectedly");
    expect(isDatabaseUnavailable(terminated)).toBe(true);

    const silent = await fakeServer(() => {});
    const pool = new pg.Pool({
      connectionString: `postgres://postgres@127.0.0.1:${silent}/kiln`,
      connectionTimeoutMillis: 50,
    });
    pool.on("error", () => {});
    try {
      const timedOut = await failureOf(() => pool.query("SELECT 1"));
      expect((timedOut as Error).message).toMatch(
        /^timeout exceeded when trying to connect|connection timeout/,
      );
      expect(isDatabaseUnavailable(timedOut)).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it("is true for a closed PGlite", async () => {
    const db = await PGlite.create("memory://");
    await db.close();
    const err = await failureOf(() => db.query("SELECT 1"));
    expect((err as Error).message).toBe("PGlite is closed");
    expect(isDatabaseUnavailable(err)).toBe(true);
  });
});
