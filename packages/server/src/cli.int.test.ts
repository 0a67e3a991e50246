import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabaseUrl, testDbKind, uniqueEmail, uniqueSlug } from "./testing/harness.ts";

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "cli.ts");

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts `kiln start` as a user would, on a free port, and waits for the URL it prints. */
async function startKiln(dataDir: string): Promise<Running> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_DATA_DIR: dataDir,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
  };
  delete env.DATABASE_URL;
  if (testDbKind() === "postgres") env.DATABASE_URL = await testDatabaseUrl();
  const child = spawn(process.execPath, [CLI, "start"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiln did not start:\n${out}`)), 45_000);
    const check = () => {
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!.replace("localhost", "127.0.0.1"));
      }
    };
    child.stdout!.on("data", check);
    child.on("exit", (code) => reject(new Error(`kiln exited with ${code}:\n${out}`)));
  });
  return { child, url, output: () => out };
}

function stopKiln(run: Running, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  return new Promise((resolve) => {
    if (run.child.exitCode !== null) return resolve(run.child.exitCode);
    run.child.on("exit", (code) => resolve(code));
    run.child.kill(signal);
  });
}

/** Minimal browser-like client over real HTTP: keeps cookies, echoes the CSRF token. */
class HttpClient {
  cookies = new Map<string, string>();
  readonly base: string;
  constructor(base: string) {
    this.base = base;
  }
  async call(method: string, url: string, body?: unknown) {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (method !== "GET" && this.cookies.has("kiln_csrf"))
      headers["x-csrf-token"] = this.cookies.get("kiln_csrf")!;
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(this.base + url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const [name, ...value] = pair!.split("=");
      this.cookies.set(name!, value.join("="));
    }
    return { status: res.status, body: (await res.json().catch(() => undefined)) as unknown };
  }
}

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-cli-"));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe("kiln start", () => {
  it("serves the API, shuts down cleanly on SIGTERM and keeps data across a restart", async () => {
    const first = await startKiln(dataDir);
    const email = uniqueEmail("persist");
    const orgSlug = uniqueSlug("org");
    try {
      const health = await fetch(`${first.url}/health`);
      expect(await health.json()).toEqual({ status: "ok", db: "ok" });
      // The server re-executed itself with its memory flags (cli.ts): the same process, the flags on.
      const cmdline = (await readFile(`/proc/${first.child.pid}/cmdline`, "utf8")).split("\0");
      expect(cmdline).toContain("--max-semi-space-size=16");
      expect(cmdline).toContain("--liftoff-only");
      const config = await (await fetch(`${first.url}/api/config`)).json();
      expect(config).toMatchObject({ name: "kiln", authMethods: ["password", "api_token"] });

      const c = new HttpClient(first.url);
      expect((await c.call("POST", "/api/auth/signup", { email, password: "a long password" })).status).toBe(
        201,
      );
      expect((await c.call("POST", "/api/orgs", { name: "Persist", slug: orgSlug })).status).toBe(201);
      const project = await c.call("POST", `/api/orgs/${orgSlug}/projects`, { name: "Survivor" });
      expect(project.status).toBe(201);

      if (testDbKind() === "pglite") {
        // A second process on the same embedded database would corrupt it: it must refuse, loudly.
        await expect(startKiln(dataDir)).rejects.toThrow(
          /another Kiln \(pid \d+\) is using the data directory/,
        );
        expect((await fetch(`${first.url}/health`)).status).toBe(200);
      }
    } finally {
      expect(await stopKiln(first), first.output()).toBe(0);
    }
    expect(first.output()).toContain("Kiln stopped");
    // The console names the slow step while it runs, and the compile cache (modules loaded faster on the next
    // start) is kept in the data dir Kiln owns, not the shared temporary directory.
    expect(first.output()).toMatch(
      testDbKind() === "pglite" ? /Opening the embedded database in \S+db…/ : /Connecting to PostgreSQL…/,
    );
    expect(first.output()).toMatch(/Database open in \d+ s; migrating…/);
    expect((await readdir(path.join(dataDir, "cache", "node-compile"))).length).toBeGreaterThan(0);
    if (testDbKind() === "pglite") expect((await stat(path.join(dataDir, "db"))).isDirectory()).toBe(true);
    const key = await stat(path.join(dataDir, "secret.key"));
    expect(key.mode & 0o777).toBe(0o600);

    const second = await startKiln(dataDir);
    try {
      const c = new HttpClient(second.url);
      expect((await c.call("POST", "/api/auth/login", { email, password: "a long password" })).status).toBe(
        200,
      );
      const projects = await c.call("GET", `/api/orgs/${orgSlug}/projects`);
      expect(projects.status).toBe(200);
      expect((projects.body as Array<{ name: string }>).map((p) => p.name)).toEqual(["Survivor"]);
    } finally {
      expect(await stopKiln(second, "SIGINT"), second.output()).toBe(0);
    }
  }, 120_000);

  it("prints usage and exits non-zero on an unknown command", async () => {
    const child = spawn(process.execPath, [CLI, "frobnicate"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    const code = await new Promise((r) => child.on("exit", r));
    expect(code).toBe(2);
    expect(out).toContain("kiln start");
  });

  it("refuses to start with an invalid configuration and says why", async () => {
    const child = spawn(process.execPath, [CLI, "start"], {
      env: { ...process.env, PORT: "not-a-port" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    const code = await new Promise((r) => child.on("exit", r));
    expect(code).toBe(1);
    expect(err).toContain("invalid configuration");
  });
});
