import { Writable } from "node:stream";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, type SignedUp, startTestKiln, type TestKiln } from "../testing/harness.ts";
import type { Database } from "./client.ts";
import { loggerOptions } from "./log-safe.ts";

/**
 * The database gone for good under a running Kiln (the pool ended, PGlite closed — what a dead embedded
 * database looks like from inside the process): every route answers the retryable 503, never a 500, and
 * the log says so in one line without the SQL's values.
 */

let database: Database;
let kiln: TestKiln;
let owner: SignedUp;
let logged = "";

beforeAll(async () => {
  database = await openTestDatabase();
  const sink = new Writable({
    write(chunk, _enc, done) {
      logged += String(chunk);
      done();
    },
  });
  const logger = pino(loggerOptions("info"), sink) as FastifyBaseLogger;
  kiln = await startTestKiln({ database, logger });
  owner = await kiln.signup();
}, 120_000);

afterAll(async () => {
  await kiln?.stop().catch(() => {});
});

describe("a database that is gone", () => {
  it("answers 503 database_unavailable with Retry-After on every kind of route; /health says unavailable", async () => {
    const slug = owner.personalOrg.slug;
    expect((await owner.client.get(`/api/orgs/${slug}/projects`)).statusCode).toBe(200);
    logged = "";
    await database.close();

    for (const res of [
      await owner.client.get(`/api/orgs/${slug}/projects`),
      await owner.client.post(`/api/orgs/${slug}/projects`, { name: "Later" }),
      await owner.client.get("/api/auth/me"),
      await owner.client.post("/api/auth/login", { email: owner.user.email, password: owner.password }),
    ]) {
      expect(res.statusCode, res.body).toBe(503);
      expect(res.json().error.code).toBe("database_unavailable");
      expect(res.headers["retry-after"]).toBe("1");
    }
    const health = await owner.client.get("/health");
    expect(health.statusCode).toBe(503);
    expect(health.headers["retry-after"]).toBe("1");

    // One warning per request, naming the driver's error; no query values (the login looked up an email).
    expect(logged).toMatch(/database unavailable/);
    expect(logged).not.toContain(owner.user.email);
    expect(logged).not.toMatch(/params:(?! \[redacted\])/);
    expect(logged).not.toMatch(/"level":50/);
  });
});
