import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FastifyBaseLogger } from "fastify";
import pg from "pg";
import pino from "pino";
import { expect, inject } from "vitest";
import { type KilnConfig, loadConfig } from "../config.ts";
import { type Database, openDatabase } from "../db/client.ts";
import { loggerOptions } from "../db/log-safe.ts";
import { createKiln, type Kiln } from "../kiln.ts";
import { LogMailer } from "../mail/mailer.ts";
import { TestClient } from "./client.ts";
import { FILE_DATABASE_INFIX } from "./postgres-setup.ts";

export type TestDb = "pglite" | "postgres";

export function testDbKind(): TestDb {
  return process.env.KILN_TEST_DB === "postgres" ? "postgres" : "pglite";
}

/** Per test file: one worker runs many files one after another, with its modules loaded once (isolate: false). */
const fileDatabases = new Map<string, Promise<string>>();

/**
 * This test file's own PostgreSQL database, made on first use (every Kiln of the file shares it, like
 * replicas do). Files run in parallel and must not share one: an instance worker of one file's Kiln would
 * claim another file's jobs from a shared queue; and each starts empty (the first account is the instance's
 * admin). The run's global setup drops them all at the end.
 */
export function testDatabaseUrl(): Promise<string> {
  const file = expect.getState().testPath ?? "";
  let fileDatabase = fileDatabases.get(file);
  fileDatabase ??= (async () => {
    const runUrl = new URL(inject("databaseUrl"));
    const name = `${runUrl.pathname.slice(1)}${FILE_DATABASE_INFIX}${randomBytes(5).toString("hex")}`;
    const admin = new pg.Client({ connectionString: inject("databaseUrl") });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${name}"`);
    } finally {
      await admin.end();
    }
    runUrl.pathname = `/${name}`;
    return runUrl.toString();
  })();
  fileDatabases.set(file, fileDatabase);
  return fileDatabase;
}

/** A database for one test file: in-memory PGlite, or a pool on this file's fresh PostgreSQL database. */
export async function openTestDatabase(): Promise<Database> {
  if (testDbKind() === "postgres") return openDatabase({ databaseUrl: await testDatabaseUrl(), poolSize: 5 });
  return openDatabase({ pgliteDump: await pgliteTemplate() });
}

let template: Promise<Blob | undefined> | undefined;

/** The run's migrated PGlite template (pglite-setup.ts), read once per test file; none outside such a run. */
export function pgliteTemplate(): Promise<Blob | undefined> {
  template ??= (async () => {
    const file = inject("pgliteTemplate");
    return file ? new Blob([await readFile(file)]) : undefined;
  })();
  return template;
}

export interface TestKiln extends Kiln {
  config: KilnConfig;
  dataDir: string;
  mails: LogMailer;
  /** A client with its own cookie jar, not signed in. */
  client(): TestClient;
  /**
   * Signs up a new user with a unique email and returns a client holding their session; the address is
   * verified with the mailed code unless `verify: false` (needs the captured mailer: no SMTP_URL).
   */
  signup(opts?: { email?: string; password?: string; name?: string; verify?: boolean }): Promise<SignedUp>;
  /** The code and link secret of the newest verification mail sent to `email` (captured mailer only). */
  verificationMail(email: string): { code: string; token: string };
  stop(): Promise<void>;
}

export interface SignedUp {
  client: TestClient;
  user: { id: string; email: string; name: string };
  personalOrg: { orgId: string; slug: string };
  password: string;
}

/**
 * Template dependencies are installed once per lockfile for every test file and run (ADR 0007); the
 * cache's own lock makes parallel workers share one install.
 */
export const TEST_TEMPLATE_CACHE_DIR = path.join(os.tmpdir(), "kiln-test-template-cache");

let counter = 0;
export function uniqueEmail(prefix = "user"): string {
  return `${prefix}-${Date.now().toString(36)}-${counter++}-${randomBytes(3).toString("hex")}@example.com`;
}

/** Reads the code and the link's secret out of a verification mail's text (as sent, or unfolded). */
export function parseVerificationMail(text: string): { code: string; token: string } {
  const code = /verification code is (\d{6})/.exec(text)?.[1];
  const token = /\/verify-email\/(kev_[A-Za-z0-9_-]+)/.exec(text)?.[1];
  if (!code || !token) throw new Error(`not a verification mail: ${text.slice(0, 200)}`);
  return { code, token };
}

export function uniqueSlug(prefix = "t"): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

/**
 * Starts a whole Kiln (all services, real routes) on a real database, driven with `app.inject`.
 * Pass `database` to share one database between several instances (restart tests).
 */
export async function startTestKiln(
  options: {
    /** On top of the test environment; `undefined` unsets a variable (KILN_PUBLIC_URL: its default). */
    env?: Record<string, string | undefined>;
    database?: Database;
    dataDir?: string;
    /** Where the server logs (tests that check what is logged); by default `KILN_TEST_LOG`'s level. */
    logger?: FastifyBaseLogger;
  } = {},
): Promise<TestKiln> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), "kiln-test-")));
  const ownsDatabase = !options.database;
  const database = options.database ?? (await openTestDatabase());
  const config = loadConfig({
    KILN_DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
    KILN_SECRET_KEY: randomBytes(32).toString("base64"),
    KILN_PUBLIC_URL: "http://localhost:4000",
    KILN_TEMPLATE_CACHE_DIR: TEST_TEMPLATE_CACHE_DIR,
    // The same on every machine, whether or not its `npm install` prepared the templates.
    KILN_INSTALLED_TEMPLATE_CACHE_DIR: "",
    ...options.env,
  });
  const logger =
    options.logger ?? (pino(loggerOptions(process.env.KILN_TEST_LOG ?? "silent")) as FastifyBaseLogger);
  const mails = new LogMailer(logger);
  // With SMTP_URL in env the real SMTP mailer is used; otherwise mails are captured in `mails`.
  const kiln = await createKiln(config, { database, logger, ...(config.smtpUrl ? {} : { mailer: mails }) });
  const test: TestKiln = {
    ...kiln,
    config,
    dataDir,
    mails,
    client: () => new TestClient(kiln.app),
    verificationMail(email) {
      const mail = mails.sent.findLast((m) => m.to === email && m.subject.includes("verification code"));
      if (!mail) throw new Error(`no verification mail to ${email}`);
      return parseVerificationMail(mail.text);
    },
    async signup(opts = {}) {
      const client = new TestClient(kiln.app);
      const email = opts.email ?? uniqueEmail();
      const password = opts.password ?? "correct horse battery";
      const res = await client.post("/api/auth/signup", { email, password, name: opts.name ?? "Test User" });
      if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
      if (opts.verify !== false) {
        const { code } = test.verificationMail(res.json().user.email);
        const verified = await client.post("/api/auth/verify-email/code", { code });
        if (verified.statusCode !== 200)
          throw new Error(`verify failed: ${verified.statusCode} ${verified.body}`);
      }
      const me = (await client.get("/api/auth/me")).json();
      const personal = me.orgs.find((o: { personal: boolean }) => o.personal);
      return {
        client,
        user: { ...res.json().user, emailVerified: opts.verify !== false },
        personalOrg: { orgId: personal.orgId, slug: personal.slug },
        password,
      };
    },
    async stop() {
      await kiln.close();
      if (ownsDatabase) await database.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return test;
}
