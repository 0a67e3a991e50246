import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { Role } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { TestClient } from "../testing/client.ts";
import { type GitTestbed, git, remoteUrl, runGit, startGitTestbed, tempDir } from "../testing/git.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/**
 * A tenant spreading its work over many projects, orgs, terminals and turns: each aggregate limit refuses
 * it with `limit_exceeded` naming the limit, and another tenant keeps working. Caps are set low here.
 */

interface Refusal {
  statusCode: number;
  json(): { error: { code: string; message: string; details?: unknown } };
}

function expectLimit(res: Refusal, status: number, limit: string, max: number): void {
  expect(res.statusCode, JSON.stringify(res.json())).toBe(status);
  const { error } = res.json();
  expect(error.code).toBe("limit_exceeded");
  expect(error.details).toMatchObject({ limit, max });
  expect(error.message.length).toBeGreaterThan(20);
}

async function newProject(client: TestClient, org: string, name = "App"): Promise<string> {
  const res = await client.post(`/api/orgs/${org}/projects`, { name, template: "static" });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().slug;
}

async function newOrg(client: TestClient): Promise<string> {
  const slug = uniqueSlug("org");
  const res = await client.post("/api/orgs", { name: "Team", slug });
  expect(res.statusCode, res.body).toBe(201);
  return slug;
}

/** Brings a new user into `owner`'s org with `role`. */
async function join(
  kiln: TestKiln,
  owner: SignedUp,
  org: string,
  role: Role = "developer",
): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await owner.client.post(`/api/orgs/${org}/invitations`, { email: member.user.email, role });
  expect(invited.statusCode, invited.body).toBe(201);
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  return member;
}

describe("projects, orgs and chat turns (counted in the database)", { timeout: 120_000 }, () => {
  let kiln: TestKiln;
  let fake: FakeProvider;

  beforeAll(async () => {
    fake = await startFakeProvider();
    kiln = await startTestKiln({
      env: {
        KILN_MAX_PROJECTS_PER_ORG: "2",
        KILN_MAX_ORGS_PER_USER: "2",
        KILN_MAX_CHAT_RUNS_PER_ORG: "2",
        KILN_MAX_CHAT_RUNS_PER_USER: "1",
        OPENAI_BASE_URL: `${fake.url}/v1`,
        OPENAI_API_KEY: "fake-key",
        KILN_MODEL: "openai/fake-model",
      },
    });
  }, 120_000);
  afterAll(async () => {
    await kiln?.stop();
    await fake?.close();
  });

  it("refuses a project past the org's cap, also when requests race; another org is unaffected", async () => {
    const a = await kiln.signup();
    const org = a.personalOrg.slug;
    await newProject(a.client, org, "One");
    // Racing for the last place: exactly one wins.
    const raced = await Promise.all(
      ["Two", "Three", "Four"].map((name) =>
        a.client.post(`/api/orgs/${org}/projects`, { name, template: "static" }),
      ),
    );
    expect(raced.map((r) => r.statusCode).sort()).toEqual([201, 403, 403]);
    for (const r of raced.filter((r) => r.statusCode === 403)) expectLimit(r, 403, "projects_per_org", 2);
    expect((await a.client.get(`/api/orgs/${org}/projects`)).json()).toHaveLength(2);
    // Deleting one makes room.
    const [first] = (await a.client.get(`/api/orgs/${org}/projects`)).json();
    expect((await a.client.delete(`/api/orgs/${org}/projects/${first.slug}`)).statusCode).toBe(200);
    await newProject(a.client, org, "Five");
    const b = await kiln.signup();
    await newProject(b.client, b.personalOrg.slug);
  });

  it("refuses an org past the user's cap (the personal org counts); another user is unaffected", async () => {
    const a = await kiln.signup();
    await newOrg(a.client);
    expectLimit(
      await a.client.post("/api/orgs", { name: "Third", slug: uniqueSlug("org") }),
      403,
      "orgs_per_user",
      2,
    );
    const b = await kiln.signup();
    await newOrg(b.client);
  });

  it("answers 429 to a chat turn past the per-user and per-org caps, across projects and chats", async () => {
    const owner = await kiln.signup();
    const org = await newOrg(owner.client);
    const member = await join(kiln, owner, org);
    const third = await join(kiln, owner, org);
    const p1 = await newProject(owner.client, org, "P1");
    const p2 = await newProject(owner.client, org, "P2");
    const send = async (client: TestClient, project: string) => {
      const chat = await client.post(`/api/orgs/${org}/projects/${project}/chats`, {});
      expect(chat.statusCode, chat.body).toBe(201);
      return client.post(`/api/orgs/${org}/projects/${project}/chats/${chat.json().id}/messages`, {
        content: "hello",
      });
    };
    // Each turn's model call hangs: the turns stay running.
    fake.enqueue({ repeat: { hang: true } });
    expect((await send(owner.client, p1)).statusCode).toBe(202);
    expectLimit(await send(owner.client, p2), 429, "chat_runs_per_user", 1);
    expect((await send(member.client, p2)).statusCode).toBe(202);
    expectLimit(await send(third.client, p1), 429, "chat_runs_per_org", 2);
    // Another org's turns are not counted against this one.
    const other = await kiln.signup();
    const p3 = await newProject(other.client, other.personalOrg.slug);
    const chat = await other.client.post(`/api/orgs/${other.personalOrg.slug}/projects/${p3}/chats`, {});
    const sent = await other.client.post(
      `/api/orgs/${other.personalOrg.slug}/projects/${p3}/chats/${chat.json().id}/messages`,
      { content: "hello" },
    );
    expect(sent.statusCode, sent.body).toBe(202);
  });
});

/** A shell over the terminal WebSocket, as the studio opens it. */
interface Shell {
  type(text: string): void;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exit: Promise<number | null>;
  close(): void;
}

function connect(port: number, client: TestClient, path: string): Promise<Shell> {
  const cookie = [...client.cookies].map(([name, c]) => `${name}=${c.value}`).join("; ");
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, {
    headers: { cookie, origin: "http://localhost:4000" },
  });
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
  ws.on("close", () => exited(null));
  return new Promise((resolve, reject) => {
    ws.once("open", () =>
      resolve({
        type: (data) => ws.send(JSON.stringify({ type: "input", data })),
        output: () => text,
        async waitFor(pattern, timeoutMs = 20_000) {
          const deadline = Date.now() + timeoutMs;
          while (!pattern.test(text)) {
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; output:\n${text}`);
            await new Promise((r) => setTimeout(r, 25));
          }
        },
        exit,
        close: () => ws.close(),
      }),
    );
    ws.once("error", reject);
  });
}

describe("live sandboxes: terminals, dev servers and the org's memory budget (per replica)", {
  timeout: 120_000,
}, () => {
  let kiln: TestKiln;

  beforeAll(async () => {
    kiln = await startTestKiln({
      env: {
        KILN_MAX_TERMINALS_PER_USER: "2",
        KILN_MAX_TERMINALS_PER_ORG: "3",
        KILN_MAX_SANDBOXES_PER_ORG: "10",
        // Sandboxes get 1 GiB each: three fit, a fourth does not.
        KILN_ORG_MEMORY_MB: "3584",
        KILN_ORG_CPUS: "64",
      },
    });
  }, 120_000);
  afterAll(() => kiln?.stop());

  it("refuses terminals past the per-user and per-org caps and a dev server past the memory budget", async () => {
    const owner = await kiln.signup();
    const org = await newOrg(owner.client);
    const member = await join(kiln, owner, org);
    const p1 = await newProject(owner.client, org, "P1");
    const p2 = await newProject(owner.client, org, "P2");
    const terminals = (p: string) => `/api/orgs/${org}/projects/${p}/terminals`;
    const open = (client: TestClient, p: string) => client.post(terminals(p), {});

    const t1 = await open(owner.client, p1);
    expect(t1.statusCode, t1.body).toBe(201);
    expect((await open(owner.client, p2)).statusCode).toBe(201);
    // Per user, across projects.
    expectLimit(await open(owner.client, p1), 429, "terminals_per_user", 2);
    expect((await open(member.client, p1)).statusCode).toBe(201);
    // Per org, across users.
    expectLimit(await open(member.client, p2), 429, "terminals_per_org", 3);

    // Three 1 GiB sandboxes run; a dev server would take the org to 4 GiB of 3.5.
    const runtime = (p: string, action: string) => `/api/orgs/${org}/projects/${p}/runtime/${action}`;
    expectLimit(await owner.client.post(runtime(p1, "start")), 429, "org_memory", 3584 * 1024 * 1024);
    expect((await owner.client.get(`/api/orgs/${org}/projects/${p1}/runtime`)).json().state).toBe("stopped");

    // Another org is unaffected: its terminal and dev server start.
    const other = await kiln.signup();
    const p3 = await newProject(other.client, other.personalOrg.slug);
    expect(
      (await other.client.post(`/api/orgs/${other.personalOrg.slug}/projects/${p3}/terminals`, {}))
        .statusCode,
    ).toBe(201);
    const started = await other.client.post(
      `/api/orgs/${other.personalOrg.slug}/projects/${p3}/runtime/start`,
    );
    expect(started.statusCode, started.body).toBe(200);
    expect(
      (await other.client.post(`/api/orgs/${other.personalOrg.slug}/projects/${p3}/runtime/stop`)).statusCode,
    ).toBe(200);

    // Closing a terminal gives its place and memory back.
    expect((await owner.client.delete(`${terminals(p1)}/${t1.json().id}`)).statusCode).toBe(200);
    const restarted = await owner.client.post(runtime(p1, "start"));
    expect(restarted.statusCode, restarted.body).toBe(200);
    expect((await owner.client.post(runtime(p1, "stop"))).statusCode).toBe(200);
  });
});

describe("the per-project disk quota, against a sandboxed shell", { timeout: 120_000 }, () => {
  let kiln: TestKiln;
  let fake: FakeProvider;
  let port: number;
  let owner: SignedUp;

  beforeAll(async () => {
    fake = await startFakeProvider();
    kiln = await startTestKiln({
      env: {
        KILN_PROJECT_DISK_MB: "8",
        KILN_DISK_CHECK_SECONDS: "1",
        OPENAI_BASE_URL: `${fake.url}/v1`,
        OPENAI_API_KEY: "fake-key",
        KILN_MODEL: "openai/fake-model",
      },
    });
    await kiln.app.listen({ port: 0, host: "127.0.0.1" });
    port = (kiln.app.server.address() as AddressInfo).port;
    owner = await kiln.signup();
  }, 120_000);
  afterAll(async () => {
    await kiln?.stop();
    await fake?.close();
  });

  const org = () => owner.personalOrg.slug;
  const write = (p: string, path: string, content = "hello\n") =>
    owner.client.put(`/api/orgs/${org()}/projects/${p}/files/content`, { path, content });
  const shellIn = async (p: string) => {
    const res = await owner.client.post(`/api/orgs/${org()}/projects/${p}/terminals`, {});
    expect(res.statusCode, res.body).toBe(201);
    return connect(port, owner.client, `/api/orgs/${org()}/projects/${p}/terminals/${res.json().id}/socket`);
  };

  it("stops a `dd` at the quota, then refuses file writes and new sandboxes; other projects keep working", async () => {
    const full = await newProject(owner.client, org(), "Full");
    const fine = await newProject(owner.client, org(), "Fine");
    const shell = await shellIn(full);
    shell.type(
      "dd if=/dev/zero of=big.bin bs=1M count=32 2>/dev/null; echo dd-$?; stat -c size-%s big.bin\n",
    );
    // SIGXFSZ (128 + 25): the file stops at the quota.
    await shell.waitFor(/dd-153\r\nsize-8388608\r\n/);
    shell.close();

    const refused = await write(full, "more.txt");
    expectLimit(refused, 409, "project_disk", 8 * 1024 * 1024);
    expectLimit(
      await owner.client.post(`/api/orgs/${org()}/projects/${full}/terminals`, {}),
      409,
      "project_disk",
      8 * 1024 * 1024,
    );

    expect((await write(fine, "ok.txt")).statusCode).toBe(200);
    const other = await shellIn(fine);
    other.type("echo still-$((40+2))\n");
    await other.waitFor(/still-42/);
    other.close();

    // Deleting the file frees the project.
    const del = await owner.client.delete(`/api/orgs/${org()}/projects/${full}/files?path=big.bin`);
    expect(del.statusCode, del.body).toBe(200);
    expect((await write(full, "more.txt")).statusCode).toBe(200);
  });

  it("stops a shell that fills the quota with many files under the single-file limit", async () => {
    const p = await newProject(owner.client, org(), "Many");
    const shell = await shellIn(p);
    shell.type(
      "for i in 1 2 3 4 5; do dd if=/dev/zero of=f$i.bin bs=1M count=3 2>/dev/null; done; echo wrote; sleep 60\n",
    );
    await shell.waitFor(/wrote/);
    // The watchdog measures projects with live sandboxes every second and stops this one's.
    const ended = await Promise.race([
      shell.exit.then(() => "exited"),
      new Promise((r) => setTimeout(r, 20_000, "running")),
    ]);
    expect(ended).toBe("exited");
    expectLimit(await write(p, "x.txt"), 409, "project_disk", 8 * 1024 * 1024);
  });

  it("stops the agent's `dd` at the quota, and its next command is refused with the limit named", async () => {
    const p = await newProject(owner.client, org(), "Agent");
    const base = `/api/orgs/${org()}/projects/${p}/chats`;
    const chat = (await owner.client.post(base, {})).json().id;
    fake.enqueue(
      {
        toolCalls: [
          { name: "bash", arguments: { command: "dd if=/dev/zero of=big.bin bs=1M count=32; echo dd-$?" } },
        ],
      },
      { toolCalls: [{ name: "bash", arguments: { command: "echo ran" } }] },
      { text: "done" },
    );
    expect(
      (await owner.client.post(`${base}/${chat}/messages`, { content: "fill the disk" })).statusCode,
    ).toBe(202);
    let parts: Array<{ type: string; toolName?: string; output?: string }> = [];
    for (const end = Date.now() + 60_000; Date.now() < end; ) {
      const last = (await owner.client.get(`${base}/${chat}`)).json().messages.at(-1);
      parts = last.parts;
      if (last.status !== "running") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const outputs = parts.filter((x) => x.type === "tool").map((x) => x.output ?? "");
    expect(outputs).toHaveLength(2);
    expect(outputs[0]).toMatch(/dd-153/);
    expect(outputs[1]).toMatch(/quota of 8 MiB/);
    expect(outputs[1]).not.toMatch(/^ran/m);
  });
});

describe("the per-project disk quota, against git pushes", { timeout: 120_000 }, () => {
  let bed: GitTestbed;
  beforeAll(async () => {
    bed = await startGitTestbed({ KILN_PROJECT_DISK_MB: "8" });
  }, 120_000);
  afterAll(() => bed?.kiln.stop());

  async function push(slug: string, file: string, content: Buffer | string) {
    const work = await tempDir("push");
    await git(["clone", "-q", remoteUrl(bed.base, bed.org.slug, slug, bed.token), work]);
    await writeFile(path.join(work, file), content);
    await git(["add", "-A"], { cwd: work });
    await git(["commit", "-q", "-m", `add ${file}`], { cwd: work });
    const run = await runGit(["push", "origin", "HEAD:refs/heads/main"], { cwd: work });
    await rm(work, { recursive: true, force: true });
    return run;
  }

  it("refuses a push into a project over its quota; fetching it and pushing elsewhere still work", async () => {
    const full = await bed.newProject();
    // Incompressible: the pack, its object and the working tree copy together take the project over 8 MiB.
    const first = await push(full.slug, "blob.bin", randomBytes(5 * 1024 * 1024));
    expect(first.code, first.stderr).toBe(0);
    const refused = await push(full.slug, "more.txt", "more\n");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/409/);
    const clone = await tempDir("clone");
    expect(
      (await runGit(["clone", "-q", remoteUrl(bed.base, bed.org.slug, full.slug, bed.token), clone])).code,
    ).toBe(0);
    await rm(clone, { recursive: true, force: true });
    const fine = await bed.newProject();
    const ok = await push(fine.slug, "ok.txt", "ok\n");
    expect(ok.code, ok.stderr).toBe(0);
  });
});
