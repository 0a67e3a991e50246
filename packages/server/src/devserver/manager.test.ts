import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalDriver } from "../sandbox/local-driver.ts";
import { DevServerManager, type DevServerProject } from "./manager.ts";

// A dev server as small as it gets: answers with a body read from a file, on the PORT it is given.
const SERVER = `
const http = require("node:http");
const fs = require("node:fs");
console.log("booting on", process.env.PORT);
http.createServer((req, res) => res.end(fs.readFileSync("/workspace/body.txt", "utf8")))
  .listen(Number(process.env.PORT), process.env.HOST, () => console.log("ready"));
`;

let root: string;
let driver: LocalDriver;
let manager: DevServerManager;
const dirs = new Map<string, string>();

async function project(name: string, files: Record<string, string>): Promise<DevServerProject> {
  const dir = path.join(root, name);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(dir, file), text);
  const p = {
    orgId: "00000000-0000-4000-8000-000000000001",
    projectId: `${name}-0000-4000-8000-000000000000`,
    name,
    template: "test",
  };
  dirs.set(p.projectId, dir);
  return p;
}

function get(target: { host: string; port: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: target.host, port: target.port, path: "/" }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(body));
      })
      .on("error", reject);
  });
}

async function until(predicate: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), "kiln-devserver-"));
  driver = new LocalDriver();
  manager = new DevServerManager({
    driver,
    idleMs: 60_000,
    startTimeoutMs: 15_000,
    sandboxFor: async (p) => ({
      projectId: p.projectId,
      workspaceDir: dirs.get(p.projectId)!,
      network: "none",
    }),
    commandFor: async () => ({ argv: ["node", "server.js"] }),
  });
});

afterAll(async () => {
  await manager?.close();
  driver?.close();
  await rm(root, { recursive: true, force: true });
});

describe("DevServerManager on the real sandbox", () => {
  it("starts on demand, reports starting then running, serves, logs, and stops", async () => {
    const p = await project("aaaaaaaa", { "server.js": SERVER, "body.txt": "hello from the sandbox" });
    expect(manager.status(p).state).toBe("stopped");
    expect(manager.ensure(p).state).toBe("starting");
    await until(() => manager.status(p).state === "running");
    const status = manager.status(p);
    expect(status.target?.host).toBe("127.0.0.1");
    expect(await get(status.target!)).toBe("hello from the sandbox");
    const log = manager.logs(p).tail(20).join("\n");
    expect(log).toContain("booting on 3000");
    expect(log).toContain("ready");
    await manager.stop(p);
    expect(manager.status(p).state).toBe("stopped");
    await expect(get(status.target!)).rejects.toThrow();
  }, 40_000);

  it("holds a request while the server starts and answers as soon as it is ready, or after the wait", async () => {
    const p = await project("eeeeeeee", { "server.js": SERVER, "body.txt": "held" });
    const settled = await manager.ensureSettled(p, 15_000);
    expect(settled.state).toBe("running");
    expect(await get(settled.target!)).toBe("held");
    // Running already: no wait at all.
    const t0 = performance.now();
    expect((await manager.ensureSettled(p, 15_000)).state).toBe("running");
    expect(performance.now() - t0).toBeLessThan(5_000);
    await manager.stop(p);

    // A server that never listens: the wait ends at its limit with "starting", and a stop ends it at once.
    const slow = await project("ffffffff", {
      "server.js": "console.log('thinking'); setInterval(() => {}, 1000);",
    });
    const waited = performance.now();
    expect((await manager.ensureSettled(slow, 300)).state).toBe("starting");
    expect(performance.now() - waited).toBeGreaterThanOrEqual(290);
    const held = manager.ensureSettled(slow, 30_000);
    await manager.stop(slow);
    expect((await held).state).toBe("stopped");
  }, 40_000);

  it("reports a crash with the exit code and keeps the output", async () => {
    const p = await project("bbbbbbbb", {
      "server.js": 'console.error("SyntaxError: boom"); process.exit(3);',
    });
    void manager.start(p);
    await until(() => manager.status(p).state === "crashed");
    expect(manager.status(p)).toMatchObject({ state: "crashed", exitCode: 3 });
    expect(manager.status(p).detail).toContain("exited with code 3");
    expect(manager.logs(p).tail(10).join("\n")).toContain("SyntaxError: boom");
    // A crashed server is not restarted by every preview request (that would loop); restart is explicit.
    expect(manager.ensure(p).state).toBe("crashed");
  }, 40_000);

  it("hibernates when idle, wakes on the next request, and stays awake while a socket is held", async () => {
    const p = await project("cccccccc", { "server.js": SERVER, "body.txt": "awake" });
    await manager.start(p);
    expect(manager.status(p).state).toBe("running");
    const release = manager.hold(p);
    expect(await manager.sweep(Date.now() + 120_000)).toBe(0);
    release();
    expect(await manager.sweep(Date.now() + 120_000)).toBe(1);
    expect(manager.status(p).state).toBe("hibernated");
    expect(manager.ensure(p).state).toBe("starting");
    await until(() => manager.status(p).state === "running");
    expect(await get(manager.status(p).target!)).toBe("awake");
    await manager.stop(p);
  }, 60_000);

  it("gives up on a server that never listens", async () => {
    const quick = new DevServerManager({
      driver,
      idleMs: 0,
      startTimeoutMs: 1_500,
      sandboxFor: async (p) => ({
        projectId: p.projectId,
        workspaceDir: dirs.get(p.projectId)!,
        network: "none",
      }),
      commandFor: async () => ({ argv: ["node", "-e", "setInterval(() => {}, 1000)"] }),
    });
    const p = await project("dddddddd", {});
    const status = await quick.start(p);
    expect(status.state).toBe("crashed");
    expect(status.detail).toContain("did not answer");
    await quick.close();
  }, 30_000);
});
