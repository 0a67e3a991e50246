import { readdirSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Role } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln } from "../testing/harness.ts";

const ORIGIN = "http://localhost:4000";

let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let base: string;

beforeAll(async () => {
  kiln = await startTestKiln();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
  owner = await kiln.signup();
  const project = await owner.client.post(`/api/orgs/${owner.personalOrg.slug}/projects`, {
    name: "Shell",
    template: "static",
  });
  expect(project.statusCode).toBe(201);
  base = `/api/orgs/${owner.personalOrg.slug}/projects/${project.json().slug}/terminals`;
}, 60_000);
afterAll(() => kiln?.stop());

function cookieOf(client: TestClient): string {
  return [...client.cookies].map(([name, c]) => `${name}=${c.value}`).join("; ");
}

interface Shell {
  ws: WebSocket;
  /** Everything the server sent as output so far. */
  output(): string;
  type(text: string): void;
  send(raw: string | Buffer): void;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exit: Promise<number | null>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Connects like the studio's browser tab: session cookie + the studio's Origin. */
function connect(
  path: string,
  headers: Record<string, string> = { cookie: cookieOf(owner.client), origin: ORIGIN },
): Promise<Shell> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
  let text = "";
  let exited: (code: number | null) => void = () => {};
  const exit = new Promise<number | null>((resolve) => {
    exited = resolve;
  });
  ws.on("message", (data) => {
    const message = JSON.parse(String(data));
    if (message.type === "output") text += message.data;
    if (message.type === "exit") exited(message.code);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const shell: Shell = {
    ws,
    output: () => text,
    type: (data) => ws.send(JSON.stringify({ type: "input", data })),
    send: (raw) => ws.send(raw),
    async waitFor(pattern, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = pattern.exec(text);
        if (match) return match[0];
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`timed out waiting for ${pattern}; output so far:\n${text}`);
    },
    exit,
    closed,
  };
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(shell));
    ws.once("unexpected-response", (_req, res) => reject(new Refused(res.statusCode ?? 0)));
    ws.once("error", reject);
  });
}

class Refused extends Error {
  readonly status: number;
  constructor(status: number) {
    super(`refused with HTTP ${status}`);
    this.status = status;
  }
}

async function refusal(promise: Promise<Shell>): Promise<number> {
  try {
    const shell = await promise;
    shell.ws.close();
    return 101;
  } catch (err) {
    if (err instanceof Refused) return err.status;
    throw err;
  }
}

async function openTerminal(client = owner.client, body: object = {}): Promise<string> {
  const res = await client.post(base, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

/** Signs up a new user and brings them into the owner's personal org with `role`. */
async function join(role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await owner.client.post(`/api/orgs/${owner.personalOrg.slug}/invitations`, {
    email: member.user.email,
    role,
  });
  expect(invited.statusCode).toBe(201);
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  return member;
}

describe("a terminal", { timeout: 60_000 }, () => {
  it("is an interactive shell at /workspace, inside the sandbox", async () => {
    const id = await openTerminal();
    const list = await owner.client.get(base);
    expect(list.json().map((t: { id: string }) => t.id)).toContain(id);
    const shell = await connect(`${base}/${id}/socket`);
    shell.type("echo hel''lo; pwd; tty\n");
    await shell.waitFor(/hello\r\n\/workspace\r\n\/dev\/pts\/\d+\r\n/);
    shell.type("cat /etc/shadow >/dev/null 2>&1; echo shadow-$?; id -un\n");
    await shell.waitFor(/shadow-1\r\nkiln\r\n/);
    shell.ws.close();
  });

  it("resizes, and Ctrl-C interrupts the foreground command", async () => {
    const shell = await connect(
      `${base}/${await openTerminal(owner.client, { cols: 100, rows: 30 })}/socket`,
    );
    shell.type("stty size\n");
    await shell.waitFor(/30 100\r\n/);
    shell.send(JSON.stringify({ type: "resize", cols: 123, rows: 41 }));
    shell.type("stty size; tput cols\n");
    await shell.waitFor(/41 123\r\n123\r\n/);
    shell.type("sleep 100; echo not-interrupted\n");
    await shell.waitFor(/sleep 100; echo not-interrupted\r\n/);
    await new Promise((r) => setTimeout(r, 200));
    const before = Date.now();
    shell.type("\u0003");
    shell.type("echo after-$?\n");
    await shell.waitFor(/after-130\r\n/);
    expect(Date.now() - before).toBeLessThan(5_000);
    expect(shell.output()).not.toMatch(/\nnot-interrupted/);
    shell.ws.close();
  });

  it("survives a disconnect: a new socket replays the scrollback and the shell still has its state", async () => {
    const id = await openTerminal();
    const first = await connect(`${base}/${id}/socket`);
    first.type("MARK=kiln-$((40 + 2)); echo marked-$MARK\n");
    await first.waitFor(/marked-kiln-42\r\n/);
    first.ws.close();
    await first.closed;

    const second = await connect(`${base}/${id}/socket`);
    await second.waitFor(/marked-kiln-42\r\n/);
    const third = await connect(`${base}/${id}/socket`);
    await third.waitFor(/marked-kiln-42\r\n/);
    second.type("echo still-$MARK\n");
    await second.waitFor(/still-kiln-42\r\n/);
    // Every attached socket sees live output.
    await third.waitFor(/still-kiln-42\r\n/);
    const listed = (await owner.client.get(base)).json().find((t: { id: string }) => t.id === id);
    expect(listed.attached).toBe(2);
    second.ws.close();
    third.ws.close();
  });

  it("is killed by DELETE: sockets get the exit and close, and it is gone", async () => {
    const id = await openTerminal();
    const shell = await connect(`${base}/${id}/socket`);
    shell.type("echo ready\n");
    await shell.waitFor(/ready\r\n/);
    const res = await owner.client.delete(`${base}/${id}`);
    expect([res.statusCode, res.json()]).toEqual([200, { ok: true }]);
    await shell.exit;
    expect((await shell.closed).code).toBe(4000);
    expect((await owner.client.get(base)).json().map((t: { id: string }) => t.id)).not.toContain(id);
    expect(await refusal(connect(`${base}/${id}/socket`))).toBe(404);
    expect((await owner.client.delete(`${base}/${id}`)).statusCode).toBe(404);
  });

  it("ends when the shell exits, with its exit code", async () => {
    const shell = await connect(`${base}/${await openTerminal()}/socket`);
    shell.type("exit 7\n");
    expect(await shell.exit).toBe(7);
    expect((await shell.closed).code).toBe(4000);
  });

  it("is killed after being idle with no socket attached; a watched one is not", async () => {
    const idle = await openTerminal();
    const watchedId = await openTerminal();
    const watched = await connect(`${base}/${watchedId}/socket`);
    // Earlier tests left unattached terminals too; they go the same way.
    expect(await kiln.services.terminals.sweep(Date.now() + 31 * 60_000)).toBeGreaterThanOrEqual(1);
    const ids = (await owner.client.get(base)).json().map((t: { id: string }) => t.id);
    expect(ids).not.toContain(idle);
    expect(ids).toContain(watchedId);
    watched.type("echo alive\n");
    await watched.waitFor(/alive\r\n/);
    watched.ws.close();
  });
});

describe("the terminal socket", { timeout: 60_000 }, () => {
  it("refuses another origin, a missing origin with a cookie, and no credentials", async () => {
    const path = `${base}/${await openTerminal()}/socket`;
    const cookie = cookieOf(owner.client);
    expect(await refusal(connect(path, { cookie, origin: "http://evil.example" }))).toBe(403);
    expect(await refusal(connect(path, { cookie, origin: "http://proj--org.localhost:4000" }))).toBe(403);
    expect(await refusal(connect(path, { cookie }))).toBe(403);
    expect(await refusal(connect(path, { origin: ORIGIN }))).toBe(401);
    // A plain GET is told to upgrade.
    const plain = await owner.client.get(path);
    expect([plain.statusCode, plain.json().error.code]).toEqual([426, "upgrade_required"]);
  });

  it("is 404 for someone outside the org and 403 for a viewer", async () => {
    const id = await openTerminal();
    const path = `${base}/${id}/socket`;
    const stranger = await kiln.signup();
    expect(await refusal(connect(path, { cookie: cookieOf(stranger.client), origin: ORIGIN }))).toBe(404);
    expect((await stranger.client.delete(`${base}/${id}`)).statusCode).toBe(404);
    expect((await stranger.client.post(base, {})).statusCode).toBe(404);

    const viewer = await join("viewer");
    expect(await refusal(connect(path, { cookie: cookieOf(viewer.client), origin: ORIGIN }))).toBe(403);
    expect((await viewer.client.post(base, {})).statusCode).toBe(403);
    expect((await viewer.client.delete(`${base}/${id}`)).statusCode).toBe(403);

    const developer = await join("developer");
    const shell = await connect(path, { cookie: cookieOf(developer.client), origin: ORIGIN });
    shell.type("echo dev-ok\n");
    await shell.waitFor(/dev-ok\r\n/);
    shell.ws.close();
  });

  it("closes cleanly on garbage, keeps the shell, and the server keeps answering", async () => {
    const id = await openTerminal();
    const path = `${base}/${id}/socket`;
    const garbage: Array<[string | Buffer, number]> = [
      ["not json", 4400],
      ['{"type":"input"}', 4400],
      ['{"type":"explode","data":"x"}', 4400],
      ['{"type":"resize","cols":0,"rows":24}', 4400],
      ['{"type":"resize","cols":100000,"rows":24}', 4400],
      ['{"type":"input","data":"x","extra":1}', 4400],
      ["[]", 4400],
      ["null", 4400],
      [Buffer.from([0xff, 0x00, 0x01]), 4400],
      [JSON.stringify({ type: "input", data: "y".repeat(70 * 1024) }), 4400],
      [JSON.stringify({ type: "input", data: "z".repeat(300 * 1024) }), 1009],
    ];
    for (const [message, code] of garbage) {
      const shell = await connect(path);
      shell.send(message);
      expect((await shell.closed).code, String(message).slice(0, 40)).toBe(code);
    }
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    const shell = await connect(path);
    shell.type("echo survived\n");
    await shell.waitFor(/survived\r\n/);
    shell.ws.close();
  });

  it("does not reach preview hosts' upgrade handling, nor does a preview host reach it", async () => {
    const path = `${base}/${await openTerminal()}/socket`;
    const status = await refusal(
      connect(path, { cookie: cookieOf(owner.client), origin: ORIGIN, host: "nothing--here.localhost:4000" }),
    );
    expect(status).not.toBe(101);
  });
});

describe("server shutdown", { timeout: 60_000 }, () => {
  it("kills every terminal and closes their sockets", async () => {
    const other = await startTestKiln();
    let stopped = false;
    try {
      await other.app.listen({ port: 0, host: "127.0.0.1" });
      const otherPort = (other.app.server.address() as AddressInfo).port;
      const user = await other.signup();
      const project = await user.client.post(`/api/orgs/${user.personalOrg.slug}/projects`, {
        name: "Doomed",
        template: "static",
      });
      const path = `/api/orgs/${user.personalOrg.slug}/projects/${project.json().slug}/terminals`;
      const id = (await user.client.post(path, {})).json().id;
      const ws = new WebSocket(`ws://127.0.0.1:${otherPort}${path}/${id}/socket`, {
        headers: { cookie: cookieOf(user.client), origin: ORIGIN },
      });
      const closed = new Promise((resolve) => ws.on("close", resolve));
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      // A background job with a marker we can look for among the host's processes.
      const marker = String(4000 + Math.floor(Math.random() * 5000));
      ws.send(JSON.stringify({ type: "input", data: `sleep ${marker}.5 & echo started-$!\n` }));
      await waitUntil(() => hostProcesses().some((c) => c === `sleep ${marker}.5`));
      stopped = true;
      await other.stop();
      await closed;
      expect(hostProcesses().filter((c) => c === `sleep ${marker}.5`)).toEqual([]);
    } finally {
      if (!stopped) await other.stop();
    }
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Command lines of every process on the host (the sandbox's pid namespace is inside the host's). */
function hostProcesses(): string[] {
  const out: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      out.push(readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean).join(" "));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}
