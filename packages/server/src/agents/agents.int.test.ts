import type { AddressInfo } from "node:net";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import {
  AGENT_PROMPT_MAX,
  type Agent,
  type AgentWithVersions,
  BUILTIN_AGENT_ID,
  type ChatMessage,
  type RunEvent,
} from "@kiln/protocol";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { join } from "../testing/git.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { BUILTIN_AGENT, BUILTIN_AGENT_VERSION } from "./builtin.ts";

let fake: FakeProvider;
let kiln: TestKiln;
let owner: SignedUp;
let org: string;
let base: string;

const reviewer = {
  name: "Reviewer",
  description: "Reads and edits, never runs commands",
  icon: "🔎",
  systemPrompt: "You are a careful reviewer. Only read and edit files.",
  tools: ["read_file", "write_file", "edit_file", "list_files"],
};

beforeAll(async () => {
  fake = await startFakeProvider();
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_LLM_RETRY_BASE_MS: "10",
    },
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  void (kiln.app.server.address() as AddressInfo).port;
  owner = await kiln.signup();
  org = uniqueSlug("org");
  expect((await owner.client.post("/api/orgs", { name: "Agents", slug: org })).statusCode).toBe(201);
  base = `/api/orgs/${org}/agents`;
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
});

beforeEach(() => fake.reset());

async function create(body: object = reviewer): Promise<Agent> {
  const res = await owner.client.post(base, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function newProject(): Promise<string> {
  const res = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Agent app", template: "static" });
  expect(res.statusCode).toBe(201);
  return res.json().slug;
}

async function untilFinished(project: string, chat: string): Promise<ChatMessage> {
  const end = Date.now() + 60_000;
  while (Date.now() < end) {
    const res = await owner.client.get(`/api/orgs/${org}/projects/${project}/chats/${chat}`);
    const last = res.json().messages.at(-1) as ChatMessage;
    if (last.status !== "running") return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("turn did not finish");
}

async function events(project: string, chat: string, messageId: string): Promise<RunEvent[]> {
  const res = await owner.client.get(
    `/api/orgs/${org}/projects/${project}/chats/${chat}/messages/${messageId}/events`,
  );
  expect(res.statusCode).toBe(200);
  return res.json();
}

function offeredTools(request: { body: unknown }): string[] {
  return ((request.body as { tools?: Array<{ function: { name: string } }> }).tools ?? []).map(
    (t) => t.function.name,
  );
}

describe("agent definitions", () => {
  it("lists the built-in Kiln agent first, read-only, with every tool", async () => {
    const res = await owner.client.get(base);
    expect(res.statusCode).toBe(200);
    const [first] = res.json() as Agent[];
    expect(first).toMatchObject({ id: BUILTIN_AGENT_ID, name: "Kiln", builtIn: true, version: 1 });
    expect(first!.tools).toEqual(BUILTIN_AGENT.tools);
    const one = await owner.client.get(`${base}/${BUILTIN_AGENT_ID}`);
    expect(one.json().versions).toHaveLength(1);
    const edit = await owner.client.put(`${base}/${BUILTIN_AGENT_ID}`, reviewer);
    expect([edit.statusCode, edit.json().error.code]).toEqual([409, "agent_built_in"]);
    const del = await owner.client.delete(`${base}/${BUILTIN_AGENT_ID}`);
    expect([del.statusCode, del.json().error.code]).toEqual([409, "agent_built_in"]);
  });

  it("creates, edits as new versions, archives, and keeps every version readable", async () => {
    const made = await create();
    expect(made).toMatchObject({ ...reviewer, version: 1, builtIn: false, archived: false });
    expect(made.defaultModel).toBeNull();
    const edited = await owner.client.put(`${base}/${made.id}`, {
      ...reviewer,
      systemPrompt: "Second words.",
      stepLimit: 7,
      defaultMode: "ask",
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({
      id: made.id,
      version: 2,
      systemPrompt: "Second words.",
      stepLimit: 7,
    });
    const listed = (await owner.client.get(base)).json() as Agent[];
    expect(listed.find((a) => a.id === made.id)?.version).toBe(2);

    expect((await owner.client.delete(`${base}/${made.id}`)).statusCode).toBe(204);
    expect(((await owner.client.get(base)).json() as Agent[]).some((a) => a.id === made.id)).toBe(false);
    const read = await owner.client.get(`${base}/${made.id}`);
    expect(read.statusCode).toBe(200);
    const full = read.json() as AgentWithVersions;
    expect(full.archived).toBe(true);
    expect(full.versions.map((v) => [v.version, v.systemPrompt])).toEqual([
      [2, "Second words."],
      [1, reviewer.systemPrompt],
    ]);
    // Archived: no edits, and no chat can pick it.
    expect((await owner.client.put(`${base}/${made.id}`, reviewer)).statusCode).toBe(404);
    const project = await newProject();
    const chat = await owner.client.post(`/api/orgs/${org}/projects/${project}/chats`, { agentId: made.id });
    expect([chat.statusCode, chat.json().error.code]).toEqual([404, "agent_not_found"]);
  });

  it("refuses an oversized prompt, an unknown tool, duplicates and garbage with a 4xx and a code", async () => {
    const bad = [
      { ...reviewer, systemPrompt: "x".repeat(AGENT_PROMPT_MAX + 1) },
      { ...reviewer, tools: ["read_file", "rm_rf"] },
      { ...reviewer, tools: ["read_file", "read_file"] },
      { ...reviewer, tools: ["__proto__"] },
      { ...reviewer, stepLimit: 0 },
      { ...reviewer, stepLimit: 10_000 },
      { ...reviewer, defaultMode: "yolo" },
      { ...reviewer, defaultModel: "not a model ref" },
      { ...reviewer, icon: "a b" },
      { ...reviewer, systemPrompt: "   " },
      { ...reviewer, extra: true },
      { name: "only a name" },
      [],
      "garbage",
    ];
    for (const body of bad) {
      const res = await owner.client.post(base, body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBeOneOf([400, 415]);
      expect(res.json().error.code).toMatch(
        /^(validation_failed|bad_request|invalid_json|unsupported_media_type)$/,
      );
    }
    expect((await owner.client.get(`${base}/not-a-uuid`)).statusCode).toBe(400);
  });

  it("lets every member read and only admins write", async () => {
    const made = await create();
    for (const role of ["viewer", "developer"] as const) {
      const member = await join(kiln, owner, org, role);
      expect((await member.client.get(base)).statusCode).toBe(200);
      expect((await member.client.get(`${base}/${made.id}`)).statusCode).toBe(200);
      const refused = [
        await member.client.post(base, reviewer),
        await member.client.put(`${base}/${made.id}`, reviewer),
        await member.client.delete(`${base}/${made.id}`),
      ];
      expect(refused.map((r) => r.statusCode)).toEqual([403, 403, 403]);
    }
    const admin = await join(kiln, owner, org, "admin");
    expect((await admin.client.put(`${base}/${made.id}`, reviewer)).statusCode).toBe(200);
  });

  it("keeps another org's agents out of reach: 404 for its id, in the routes and in chats", async () => {
    const made = await create();
    const other = await kiln.signup();
    const otherOrg = uniqueSlug("org");
    await other.client.post("/api/orgs", { name: "Other", slug: otherOrg });
    const theirs = `/api/orgs/${otherOrg}/agents/${made.id}`;
    for (const res of [
      await other.client.get(theirs),
      await other.client.put(theirs, reviewer),
      await other.client.delete(theirs),
    ]) {
      expect([res.statusCode, res.json().error.code]).toEqual([404, "agent_not_found"]);
    }
    const project = (
      await other.client.post(`/api/orgs/${otherOrg}/projects`, { name: "P", template: "static" })
    ).json().slug as string;
    const chats = `/api/orgs/${otherOrg}/projects/${project}/chats`;
    const chat = await other.client.post(chats, { agentId: made.id });
    expect([chat.statusCode, chat.json().error.code]).toEqual([404, "agent_not_found"]);
    const mine = (await other.client.post(chats, {})).json();
    const switched = await other.client.patch(`${chats}/${mine.id}`, { agentId: made.id });
    expect([switched.statusCode, switched.json().error.code]).toEqual([404, "agent_not_found"]);
    // The owner's agent is unchanged.
    expect((await owner.client.get(`${base}/${made.id}`)).json().versions).toHaveLength(1);
  });
});

describe("chats run an agent", () => {
  it("a chat without an agent runs the built-in: its prompt and every tool", async () => {
    const project = await newProject();
    const chat = (await owner.client.post(`/api/orgs/${org}/projects/${project}/chats`, {})).json();
    expect([chat.agentId, chat.agentVersion]).toEqual([BUILTIN_AGENT_ID, BUILTIN_AGENT_VERSION]);
    fake.enqueue({ text: "Hello." });
    const sent = await owner.client.post(`/api/orgs/${org}/projects/${project}/chats/${chat.id}/messages`, {
      content: "hi",
    });
    expect(sent.statusCode).toBe(202);
    const last = await untilFinished(project, chat.id);
    expect(last).toMatchObject({ status: "completed", agentId: BUILTIN_AGENT_ID, agentVersion: 1 });
    expect(offeredTools(fake.requests[0]!).sort()).toEqual([...BUILTIN_AGENT.tools].sort());
    const system = JSON.stringify(fake.requests[0]!.body);
    expect(system).toContain("You are Kiln's coding agent.");
    expect(system).toContain("The project's guide (KILN.md)");
  }, 60_000);

  it("offers exactly the agent's tools, refuses a forged bash call without running it, and records the version", async () => {
    const agent = await create({ ...reviewer, stepLimit: 5 });
    const project = await newProject();
    const chats = `/api/orgs/${org}/projects/${project}/chats`;
    const chat = (await owner.client.post(chats, { agentId: agent.id })).json();
    expect([chat.agentId, chat.agentVersion]).toEqual([agent.id, 1]);
    fake.enqueue(
      { toolCalls: [{ name: "bash", arguments: { command: "touch bash-was-here" } }] },
      { toolCalls: [{ name: "write_file", arguments: { path: "allowed.txt", content: "ok\n" } }] },
      { text: "Done." },
    );
    const sent = await owner.client.post(`${chats}/${chat.id}/messages`, { content: "try it" });
    expect(sent.statusCode).toBe(202);
    const last = await untilFinished(project, chat.id);
    expect(last).toMatchObject({ status: "completed", agentId: agent.id, agentVersion: 1 });

    for (const request of fake.requests)
      expect(offeredTools(request).sort()).toEqual([...reviewer.tools].sort());
    const body = JSON.stringify(fake.requests[0]!.body);
    expect(body).toContain(reviewer.systemPrompt);
    expect(body).not.toContain("You are Kiln's coding agent.");
    expect(body).toContain("The project's guide (KILN.md)");

    const run = await events(project, chat.id, last.id);
    expect(run[0]!.event).toMatchObject({ type: "message-start", agent: { id: agent.id, version: 1 } });
    const ends = run.flatMap((e) => (e.event.type === "tool-call-end" ? [e.event] : []));
    expect(ends.map((e) => [e.toolName, e.isError])).toEqual([
      ["bash", true],
      ["write_file", false],
    ]);
    expect(ends[0]!.output).toMatch(/^Unknown tool "bash": not one of this agent's tools/);
    const file = (p: string) =>
      owner.client.get(`/api/orgs/${org}/projects/${project}/files/content?path=${p}`);
    expect((await file("bash-was-here")).statusCode).toBe(404);
    expect((await file("allowed.txt")).statusCode).toBe(200);
  }, 60_000);

  it("an edit is a new version: the chat keeps its version until switched; history names the one each answer ran", async () => {
    const agent = await create();
    const project = await newProject();
    const chats = `/api/orgs/${org}/projects/${project}/chats`;
    const chat = (await owner.client.post(chats, { agentId: agent.id })).json();
    await owner.client.put(`${base}/${agent.id}`, {
      ...reviewer,
      systemPrompt: "Version two speaks.",
      tools: ["read_file"],
      defaultMode: "plan",
    });
    fake.enqueue({ text: "one" });
    await owner.client.post(`${chats}/${chat.id}/messages`, { content: "first" });
    await untilFinished(project, chat.id);
    expect(JSON.stringify(fake.requests[0]!.body)).toContain(reviewer.systemPrompt);

    const switched = await owner.client.patch(`${chats}/${chat.id}`, { agentId: agent.id });
    expect(switched.json()).toMatchObject({ agentId: agent.id, agentVersion: 2 });
    fake.reset();
    fake.enqueue({ text: "two" });
    await owner.client.post(`${chats}/${chat.id}/messages`, { content: "second" });
    await untilFinished(project, chat.id);
    expect(JSON.stringify(fake.requests[0]!.body)).toContain("Version two speaks.");
    expect(offeredTools(fake.requests[0]!)).toEqual(["read_file"]);

    const history = (await owner.client.get(`${chats}/${chat.id}`)).json().messages as ChatMessage[];
    expect(history.filter((m) => m.role === "assistant").map((m) => m.agentVersion)).toEqual([1, 2]);
    // A new chat with it takes its default mode.
    expect((await owner.client.post(chats, { agentId: agent.id })).json().mode).toBe("plan");
  }, 60_000);

  it("the agent's step limit stops a turn", async () => {
    const agent = await create({ ...reviewer, stepLimit: 1 });
    const project = await newProject();
    const chats = `/api/orgs/${org}/projects/${project}/chats`;
    const chat = (await owner.client.post(chats, { agentId: agent.id })).json();
    fake.enqueue(
      { toolCalls: [{ name: "list_files", arguments: {} }] },
      { toolCalls: [{ name: "list_files", arguments: {} }] },
      { text: "never" },
    );
    await owner.client.post(`${chats}/${chat.id}/messages`, { content: "go" });
    const last = await untilFinished(project, chat.id);
    expect(last.reason).toBe("step_limit");
    expect(fake.requests).toHaveLength(1);
  }, 60_000);
});
