import { stat } from "node:fs/promises";
import path from "node:path";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { Agent, ChatMessage, McpServer } from "@kiln/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { STDIO_SERVER_SCRIPT, startHttpMcpServer } from "../testing/mcp-server.ts";

/**
 * MCP servers (ADR 0039): an org's http and stdio servers give its agents `mcp__<server>__<tool>` tools,
 * asked for in "ask" mode like Kiln's own, held to the egress policy (http) and to the project's sandbox
 * (stdio); a broken server is a tool error, never a broken turn; another org sees and uses none of them.
 */

let fake: FakeProvider;
let mcpHttp: Awaited<ReturnType<typeof startHttpMcpServer>>;
let kiln: TestKiln;
let owner: SignedUp;
let org: string;
let base: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  mcpHttp = await startHttpMcpServer();
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_LLM_RETRY_BASE_MS: "10",
      // The one mechanism every server-side fetch honours: the test's MCP server is exempted, nothing else.
      KILN_EGRESS_ALLOW: `127.0.0.1:${mcpHttp.port}`,
    },
  });
  owner = await kiln.signup();
  org = uniqueSlug("org");
  expect((await owner.client.post("/api/orgs", { name: "Tools", slug: org })).statusCode).toBe(201);
  base = `/api/orgs/${org}`;
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await mcpHttp?.close();
  await fake?.close();
});

beforeEach(() => fake.reset());

async function addServer(body: object, client = owner.client, at = base): Promise<McpServer> {
  const res = await client.post(`${at}/mcp-servers`, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function agentWith(servers: string[], name = "Tooled"): Promise<Agent> {
  const res = await owner.client.post(`${base}/agents`, {
    name,
    systemPrompt: "Use the tools you are given.",
    tools: ["read_file"],
    mcpServers: servers,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function newProject(): Promise<string> {
  const res = await owner.client.post(`${base}/projects`, { name: "MCP app", template: "static" });
  expect(res.statusCode).toBe(201);
  return res.json().slug;
}

async function newChat(project: string, body: Record<string, unknown>): Promise<string> {
  const res = await owner.client.post(`${base}/projects/${project}/chats`, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function lastMessage(project: string, chat: string): Promise<ChatMessage> {
  return (await owner.client.get(`${base}/projects/${project}/chats/${chat}`)).json().messages.at(-1);
}

async function untilFinished(project: string, chat: string): Promise<ChatMessage> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const last = await lastMessage(project, chat);
    if (last.status !== "running") return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("turn did not finish");
}

async function untilApprovalRequested(project: string, chat: string): Promise<string> {
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    const m = await lastMessage(project, chat);
    const waiting = m.parts.find((p) => p.type === "tool" && p.state === "awaiting-approval");
    if (waiting?.type === "tool") return waiting.toolCallId;
    if (m.status !== "running") throw new Error(`turn ended: ${JSON.stringify(m.parts)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("no approval request");
}

function offeredTools(request: { body: unknown }): string[] {
  return ((request.body as { tools?: Array<{ function: { name: string } }> }).tools ?? []).map(
    (t) => t.function.name,
  );
}

function toolParts(message: ChatMessage) {
  return message.parts.flatMap((p) => (p.type === "tool" ? [p] : []));
}

describe("http MCP servers", () => {
  it("offers the server's tools; in ask mode a call waits for approval, runs, and its result reaches the model", async () => {
    const server = await addServer({
      name: "shouter",
      transport: "http",
      url: mcpHttp.url,
      headers: { Authorization: "Bearer mcp-secret-token" },
    });
    // The credential is sealed: only its name comes back, anywhere.
    expect(server).toMatchObject({ name: "shouter", transport: "http", secretNames: ["Authorization"] });
    const listed = await owner.client.get(`${base}/mcp-servers`);
    expect(listed.body).not.toContain("mcp-secret-token");
    expect((await owner.client.get(`${base}/mcp-servers/${server.id}`)).body).not.toContain(
      "mcp-secret-token",
    );

    const agent = await agentWith([server.id]);
    expect(agent.mcpServers).toEqual([server.id]);
    const project = await newProject();
    const chat = await newChat(project, { agentId: agent.id, mode: "ask" });
    fake.enqueue(
      { toolCalls: [{ name: "mcp__shouter__shout", arguments: { text: "hello kiln" } }] },
      { text: "It shouted back." },
    );
    const sent = await owner.client.post(`${base}/projects/${project}/chats/${chat}/messages`, {
      content: "shout hello",
    });
    expect(sent.statusCode, sent.body).toBe(202);
    const callId = await untilApprovalRequested(project, chat);
    expect(offeredTools(fake.requests[0]!)).toEqual([
      "read_file",
      "mcp__shouter__shout",
      "mcp__shouter__fail",
    ]);
    // Nothing reached the server's tool yet: only the connection and the listing.
    const calledBefore = mcpHttp.authorizations.length;
    expect(fake.requests).toHaveLength(1);
    const decide = await owner.client.post(`${base}/projects/${project}/chats/${chat}/approvals`, {
      toolCallId: callId,
      decision: "approve",
    });
    expect(decide.statusCode, decide.body).toBe(200);
    const last = await untilFinished(project, chat);
    expect(last.status).toBe("completed");
    const [part] = toolParts(last);
    expect(part).toMatchObject({ toolName: "mcp__shouter__shout", state: "done" });
    expect(mcpHttp.authorizations.length).toBeGreaterThan(calledBefore);
    // Sent with every request, as configured.
    expect(new Set(mcpHttp.authorizations)).toEqual(new Set(["Bearer mcp-secret-token"]));
    expect(JSON.stringify(fake.requests[1]!.body)).toContain("HELLO KILN!");

    // The call is audited like Kiln's own tools.
    const audit = await owner.client.get(`${base}/audit/events?action=agent.tool_call`);
    expect(audit.statusCode).toBe(200);
    expect(JSON.stringify(audit.json())).toContain("mcp__shouter__shout");
  }, 90_000);

  it("a tool's own error and an unreachable server are tool errors; the turn completes", async () => {
    const gone = await addServer({ name: "gone", transport: "http", url: mcpHttp.url });
    const shouter = ((await owner.client.get(`${base}/mcp-servers`)).json() as McpServer[]).find(
      (s) => s.name === "shouter",
    )!;
    const agent = await agentWith([shouter.id, gone.id], "Two servers");
    // The second server now points at a port nobody listens on (exempted host, closed port).
    const moved = await owner.client.put(`${base}/mcp-servers/${gone.id}`, {
      name: "gone",
      transport: "http",
      url: `http://127.0.0.1:${mcpHttp.port}/nothing-here`,
    });
    expect(moved.statusCode, moved.body).toBe(200);
    const project = await newProject();
    const chat = await newChat(project, { agentId: agent.id, mode: "allow" });
    fake.enqueue(
      { toolCalls: [{ name: "mcp__shouter__fail", arguments: {} }] },
      { toolCalls: [{ name: "mcp__gone__shout", arguments: { text: "x" } }] },
      { text: "Both failed; done." },
    );
    await owner.client.post(`${base}/projects/${project}/chats/${chat}/messages`, { content: "try" });
    const last = await untilFinished(project, chat);
    expect(last.status).toBe("completed");
    const parts = toolParts(last);
    expect(parts.map((p) => [p.toolName, p.state])).toEqual([
      ["mcp__shouter__fail", "error"],
      ["mcp__gone__shout", "error"],
    ]);
    expect(JSON.stringify(parts[0])).toContain("the fail tool failed");
    // The unreachable server's tools were never offered; the model was told why.
    const system = JSON.stringify(fake.requests[0]!.body);
    expect(offeredTools(fake.requests[0]!)).not.toContain("mcp__gone__shout");
    expect(system).toContain('The MCP server \\"gone\\" is unavailable this turn');
  }, 90_000);
});

describe("stdio MCP servers", () => {
  it("runs inside the project's sandbox as the project's user; a crash is a tool error and the turn completes", async () => {
    const project = await newProject();
    const write = await owner.client.put(`${base}/projects/${project}/files/content`, {
      path: "tools/mcp.cjs",
      content: STDIO_SERVER_SCRIPT,
      createParents: true,
    });
    expect(write.statusCode, write.body).toBe(200);
    const server = await addServer({
      name: "workspace",
      transport: "stdio",
      command: ["node", "tools/mcp.cjs"],
      env: { WORKSPACE_TOKEN: "stdio-secret" },
    });
    expect(server.secretNames).toEqual(["WORKSPACE_TOKEN"]);
    expect(JSON.stringify(server)).not.toContain("stdio-secret");
    const agent = await agentWith([server.id], "Workspace tools");
    const chat = await newChat(project, { agentId: agent.id, mode: "allow" });
    fake.enqueue(
      { toolCalls: [{ name: "mcp__workspace__whoami", arguments: {} }] },
      { toolCalls: [{ name: "mcp__workspace__crash", arguments: {} }] },
      { toolCalls: [{ name: "mcp__workspace__whoami", arguments: {} }] },
      { text: "The server crashed; done." },
    );
    await owner.client.post(`${base}/projects/${project}/chats/${chat}/messages`, { content: "who?" });
    const last = await untilFinished(project, chat);
    expect(last.status, JSON.stringify(last.parts)).toBe("completed");
    const parts = toolParts(last);
    expect(parts.map((p) => [p.toolName, p.state])).toEqual([
      ["mcp__workspace__whoami", "done"],
      ["mcp__workspace__crash", "error"],
      ["mcp__workspace__whoami", "error"],
    ]);
    const whoami = JSON.stringify(parts[0]);
    expect(whoami).toContain("cwd=/workspace");
    expect(whoami).not.toContain("uid=0 ");
    expect(whoami).toContain(`uid=${kiln.driver.guestUid} `);
    // On the host, the file it wrote belongs to the project's uid, not to the server's root.
    const orgId = (await owner.client.get(`${base}`)).json().id as string;
    const projectId = (await owner.client.get(`${base}/projects/${project}`)).json().id as string;
    const made = await stat(path.join(kiln.storage.projectDir(orgId, projectId), "made-by-mcp.txt"));
    // This suite's driver isolates (bubblewrap), so the project has a uid of its own.
    expect(kiln.driver.unsandboxed).toBe(false);
    const projectUid = kiln.driver.workspaceOwner(projectId)?.uid;
    expect(projectUid).toBeGreaterThan(0);
    expect(made.uid).toBe(projectUid);
    const crash = parts[1]!;
    expect(crash.output).toMatch(/^The MCP server "workspace" failed: .*closed/i);
  }, 120_000);
});

describe("guards", () => {
  it("refuses loopback and metadata addresses the operator did not exempt, with a code", async () => {
    for (const url of [
      "https://127.0.0.1:9/mcp",
      "https://169.254.169.254/latest/meta-data",
      `http://127.0.0.1:${mcpHttp.port + 1}/mcp`,
      "https://user:pw@example.com/mcp",
    ]) {
      const res = await owner.client.post(`${base}/mcp-servers`, { name: "bad", transport: "http", url });
      expect([res.statusCode, res.json().error.code], url).toEqual([400, "egress_refused"]);
    }
  });

  it("answers garbage with 4xx and a code", async () => {
    const bad: unknown[] = [
      {},
      { name: "x", transport: "ftp", url: "ftp://example.com" },
      { name: "Has Spaces", transport: "http", url: "https://example.com/mcp" },
      { name: "a__b", transport: "http", url: "https://example.com/mcp" },
      { name: "ok", transport: "http", url: "not a url" },
      { name: "ok", transport: "stdio", command: [] },
      { name: "ok", transport: "stdio", command: ["node"], extra: true },
      { name: "ok", transport: "http", url: "https://example.com/mcp", headers: { "bad header": "x" } },
      { name: "ok", transport: "http", url: "https://example.com/mcp", headers: { A: "x\r\ny" } },
      { name: "ok", transport: "stdio", command: ["x".repeat(5000)] },
    ];
    for (const body of bad) {
      const res = await owner.client.post(`${base}/mcp-servers`, body as object);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.code).toMatch(/^(validation_failed|bad_request|invalid_json)$/);
    }
    const dup = await owner.client.post(`${base}/mcp-servers`, {
      name: "shouter",
      transport: "http",
      url: mcpHttp.url,
    });
    expect([dup.statusCode, dup.json().error.code]).toEqual([409, "mcp_server_name_taken"]);
    const unknownAgent = await owner.client.post(`${base}/agents`, {
      name: "Bad",
      systemPrompt: "x",
      tools: [],
      mcpServers: ["00000000-0000-4000-8000-000000000001"],
    });
    expect([unknownAgent.statusCode, unknownAgent.json().error.code]).toEqual([404, "mcp_server_not_found"]);
    const notId = await owner.client.get(`${base}/mcp-servers/not-an-id`);
    expect([notId.statusCode, notId.json().error.code]).toEqual([400, "validation_failed"]);
  });

  it("another org neither sees nor uses an org's servers; members read, only admins write", async () => {
    const mine = ((await owner.client.get(`${base}/mcp-servers`)).json() as McpServer[])[0]!;
    const stranger = await kiln.signup();
    const theirs = uniqueSlug("org");
    expect((await stranger.client.post("/api/orgs", { name: "Other", slug: theirs })).statusCode).toBe(201);
    const other = `/api/orgs/${theirs}`;
    expect((await stranger.client.get(`${other}/mcp-servers`)).json()).toEqual([]);
    const peek = await stranger.client.get(`${other}/mcp-servers/${mine.id}`);
    expect([peek.statusCode, peek.json().error.code]).toEqual([404, "mcp_server_not_found"]);
    // Naming it in their own agent: as missing as any other id.
    const borrow = await stranger.client.post(`${other}/agents`, {
      name: "Borrower",
      systemPrompt: "x",
      tools: [],
      mcpServers: [mine.id],
    });
    expect([borrow.statusCode, borrow.json().error.code]).toEqual([404, "mcp_server_not_found"]);
    // And straight at the owner's org: not a member.
    expect((await stranger.client.get(`${base}/mcp-servers`)).statusCode).toBe(404);
    const del = await stranger.client.delete(`${other}/mcp-servers/${mine.id}`);
    expect(del.statusCode).toBe(404);
    expect((await owner.client.get(`${base}/mcp-servers/${mine.id}`)).statusCode).toBe(200);
  });
});
