import type { AddressInfo } from "node:net";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { RunEvent } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HostileBed, openShell } from "../security/hostile-tenant.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { previewSession, untilPreviewServes } from "../testing/preview.ts";
import { readSse } from "../testing/sse.ts";

/**
 * A project's environment variables reach its own processes: the dev server (restarted when they change),
 * a terminal and the agent's commands, each in the project's sandbox.
 */

let fake: FakeProvider;
let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let org: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  kiln = await startTestKiln({
    env: { OPENAI_BASE_URL: `${fake.url}/v1`, OPENAI_API_KEY: "fake-key", KILN_MODEL: "openai/fake-model" },
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
  owner = await kiln.signup();
  org = uniqueSlug("envrt");
  await owner.client.post("/api/orgs", { name: "Env runtime", slug: org });
}, 120_000);
afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
});

// The app shows what its process was given; `[unset]` when nothing.
const SERVER = `import http from "node:http";
http
  .createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end("<p>APP_SECRET=[" + (process.env.APP_SECRET ?? "unset") + "] MODE=[" + (process.env.MODE ?? "unset") + "]</p>");
  })
  .listen(Number(process.env.PORT) || 3000, process.env.HOST || "0.0.0.0");
`;

async function newProject(template: string): Promise<{ slug: string; base: string }> {
  const res = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Env app", template });
  expect(res.statusCode, res.body).toBe(201);
  const slug = res.json().slug;
  return { slug, base: `/api/orgs/${org}/projects/${slug}` };
}

describe("environment variables in the project's processes", () => {
  it("the dev server gets them, and restarts by itself when they change", { timeout: 240_000 }, async () => {
    const p = await newProject("node-api");
    const written = await owner.client.put(`${p.base}/files/content`, { path: "server.js", content: SERVER });
    expect(written.statusCode).toBe(200);
    const first = await owner.client.put(`${p.base}/env`, {
      name: "APP_SECRET",
      value: "first-secret-value-1234",
      secret: true,
    });
    // Nothing runs yet: nothing to restart; the start reads it.
    expect(first.json().restarted).toBe(false);
    await owner.client.put(`${p.base}/env`, { name: "MODE", value: "demo" });

    expect((await owner.client.post(`${p.base}/runtime/start`)).statusCode).toBe(200);
    const { host, cookie } = await previewSession(owner.client, port, org, p.slug);
    await untilPreviewServes(port, host, cookie, "APP_SECRET=[first-secret-value-1234] MODE=[demo]", 120_000);

    const second = await owner.client.put(`${p.base}/env`, {
      name: "APP_SECRET",
      value: "second-secret-value-5678",
      secret: true,
    });
    expect(second.json().restarted).toBe(true);
    await untilPreviewServes(port, host, cookie, "APP_SECRET=[second-secret-value-5678]", 120_000);

    const removed = await owner.client.delete(`${p.base}/env/APP_SECRET`);
    expect(removed.json()).toEqual({ ok: true, restarted: true });
    await untilPreviewServes(port, host, cookie, "APP_SECRET=[unset] MODE=[demo]", 120_000);

    // The dev server's log (which the studio shows) never printed the values Kiln passed.
    const logs = (await owner.client.get(`${p.base}/runtime`)).json().logTail as Array<{ text: string }>;
    expect(JSON.stringify(logs)).not.toContain("secret-value");
    await owner.client.post(`${p.base}/runtime/stop`);
  });

  it("a terminal sees them, as of when it opened", { timeout: 120_000 }, async () => {
    const p = await newProject("static");
    await owner.client.put(`${p.base}/env`, {
      name: "SHELL_SECRET",
      value: "terminal-sees-this",
      secret: true,
    });
    const shell = await openShell({ kiln, port } as HostileBed, org, {
      slug: p.slug,
      client: owner.client,
    } as never);
    try {
      shell.type("printenv SHELL_SECRET | tr a-z A-Z\n");
      await shell.waitFor(/TERMINAL-SEES-THIS/);
      // The sandbox's own variables are Kiln's, whatever a project sets.
      shell.type('echo "home=$HOME"\n');
      await shell.waitFor(/home=\/tmp/);
    } finally {
      shell.close();
    }
  });

  it("the agent's commands see them", { timeout: 120_000 }, async () => {
    const p = await newProject("static");
    await owner.client.put(`${p.base}/env`, { name: "AGENT_SECRET", value: "agent-sees-this", secret: true });
    const chat = (await owner.client.post(`${p.base}/chats`, {})).json().id;
    fake.enqueue(
      { toolCalls: [{ name: "bash", arguments: { command: "printenv AGENT_SECRET | tr a-z A-Z" } }] },
      { text: "Done." },
    );
    const cookie = [...owner.client.cookies].map(([k, v]) => `${k}=${v.value}`).join("; ");
    const res = await readSse(`http://127.0.0.1:${port}${p.base}/chats/${chat}/messages`, {
      method: "POST",
      headers: { cookie, ...(owner.client.csrf ? { "x-csrf-token": owner.client.csrf } : {}) },
      body: { content: "What is the secret?" },
      timeoutMs: 90_000,
    });
    expect(res.status).toBe(200);
    const bash = res.events
      .map((e) => (e.data as RunEvent).event)
      .find((e) => e.type === "tool-call-end" && e.toolName === "bash");
    if (bash?.type !== "tool-call-end") throw new Error("no bash result");
    expect(bash.isError).toBe(false);
    expect(bash.output).toContain("AGENT-SEES-THIS");
  });
});
