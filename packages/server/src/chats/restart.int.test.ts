import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { INTERRUPTED_RESULT } from "@kiln/agent";
import {
  type FakeProvider,
  lastUserText,
  type RecordedRequest,
  readConversation,
  startFakeProvider,
} from "@kiln/fake-provider";
import type { ChatMessage, RunEvent } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  TEST_TEMPLATE_CACHE_DIR,
  testDatabaseUrl,
  testDbKind,
  uniqueEmail,
  uniqueSlug,
} from "../testing/harness.ts";
import { readSse, type SseMessage } from "../testing/sse.ts";

/**
 * A turn in flight when the server dies (kill -9) or is stopped (SIGTERM) — the real `kiln start` in a
 * child process, restarted on the same data directory (ADR 0010): nothing stored is lost, the answer
 * ends as `interrupted`, and it can be resumed.
 */

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "cli.ts");
const STREAM_PROMPT = "Write a long story";
const TOOL_PROMPT = "Run the long command";
const STORY = "Once upon a time a kiln fired pots all night long, and every pot came out whole. ".repeat(20);
const CHUNK = 5;
const PIECES = 8;
/** What the model had said when its stream stalls: the role chunk, then PIECES text chunks. */
const SAID = STORY.slice(0, CHUNK * PIECES);
/** Unusual, so a leftover sandboxed process is recognisable in /proc. */
const SLEEP = "sleep 313";

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
}

let fake: FakeProvider;
let dataDir: string;
let running: Running | undefined;
let token = "";
let base = "";

/** `kiln start` as a user runs it, pointed at the fake provider; resolves with the URL it prints. */
async function startKiln(): Promise<Running> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_DATA_DIR: dataDir,
    KILN_TEMPLATE_CACHE_DIR: TEST_TEMPLATE_CACHE_DIR,
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    OPENAI_BASE_URL: `${fake.url}/v1`,
    OPENAI_API_KEY: "fake-key",
    KILN_MODEL: "openai/fake-model",
    KILN_LLM_RETRY_BASE_MS: "10",
  };
  delete env.DATABASE_URL;
  if (testDbKind() === "postgres") env.DATABASE_URL = await testDatabaseUrl();
  const child = spawn(process.execPath, [CLI, "start"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiln did not start:\n${out}`)), 45_000);
    child.stdout!.on("data", () => {
      const m = /running at (http:\/\/\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve(m[1]!.replace("localhost", "127.0.0.1"));
    });
    child.on("exit", (code) => reject(new Error(`kiln exited with ${code}:\n${out}`)));
  });
  running = { child, url, output: () => out };
  return running;
}

function stop(run: Running, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    if (run.child.exitCode !== null || run.child.signalCode !== null) return resolve(run.child.exitCode);
    run.child.on("exit", (code) => resolve(code));
    run.child.kill(signal);
  });
}

// biome-ignore lint/suspicious/noExplicitAny: answers are read loosely; the shapes are what the asserts check.
async function call(method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${running!.url}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json().catch(() => undefined) };
}

const sse = (url: string, init: Parameters<typeof readSse>[1] = {}) =>
  readSse(`${running!.url}${url}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...init.headers },
  });

const textOf = (events: SseMessage[]) =>
  events
    .map((e) => (e.data as RunEvent).event)
    .map((e) => (e.type === "text-delta" ? e.delta : ""))
    .join("");

/** Sends a message over SSE like the studio and leaves (the tab closes) once `enough` holds. */
async function sendAndLeave(chat: string, content: string, enough: (events: SseMessage[]) => boolean) {
  const res = await sse(`${base}/${chat}/messages`, { method: "POST", body: { content }, until: enough });
  expect(res.status).toBe(200);
  expect(res.ended).toBe(false);
  return res.events;
}

async function lastMessage(chat: string): Promise<ChatMessage> {
  const res = await call("GET", `${base}/${chat}`);
  expect(res.status).toBe(200);
  return res.json.messages.at(-1);
}

/** Embedded: start-up marks the dead run at once. Shared PostgreSQL: the sweeper, 30-45 s after the kill. */
async function untilSettled(chat: string, ms = 75_000): Promise<ChatMessage> {
  const end = Date.now() + ms;
  for (;;) {
    const last = await lastMessage(chat);
    if (last.status !== "running" || Date.now() > end) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The stored answer of an interrupted turn: its events through one `message-end`, replayable as SSE. */
async function expectInterrupted(chat: string, seen: SseMessage[]): Promise<ChatMessage> {
  const answer = await untilSettled(chat);
  expect(answer).toMatchObject({ role: "assistant", status: "interrupted", reason: "interrupted" });
  const stored = await call("GET", `${base}/${chat}/messages/${answer.id}/events?after=0`);
  expect(stored.status).toBe(200);
  const events = stored.json as RunEvent[];
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  // Every event a client saw before the server went away is stored, unchanged.
  expect(events.slice(0, seen.length)).toEqual(seen.map((e) => e.data));
  expect(events.filter((e) => e.event.type === "message-end")).toHaveLength(1);
  expect(events.filter((e) => e.event.type === "error")).toEqual([]);
  expect(events.at(-1)!.event).toMatchObject({
    type: "message-end",
    status: "interrupted",
    reason: "interrupted",
  });
  // A tab coming back replays the turn to its end, and a reconnect with Last-Event-ID gets the rest.
  const replay = await sse(`${base}/${chat}/messages/${answer.id}/events`);
  expect(replay.ended).toBe(true);
  expect(replay.events.map((e) => e.data)).toEqual(events);
  const rest = await sse(`${base}/${chat}/messages/${answer.id}/events`, {
    headers: { "last-event-id": String(seen.at(-1)!.id) },
  });
  expect(rest.ended).toBe(true);
  expect(rest.events.map((e) => e.data)).toEqual(events.slice(seen.length));
  expect(rest.events.at(-1)!.event).toBe("message-end");
  return answer;
}

/** The user's message is kept, and the answer's parts hold what had streamed. */
async function expectStoredStory(chat: string): Promise<void> {
  const { json } = await call("GET", `${base}/${chat}`);
  const [user, answer] = json.messages as ChatMessage[];
  expect(json.messages).toHaveLength(2);
  expect(json.runningMessageId).toBeNull();
  expect(user).toMatchObject({
    role: "user",
    status: "complete",
    parts: [{ type: "text", text: STREAM_PROMPT }],
  });
  expect(answer!.parts).toEqual([{ type: "text", text: SAID }]);
}

/** The call open when the server went away is closed as failed (never left spinning). */
async function expectToolCallStopped(chat: string, output: string): Promise<void> {
  const answer = await lastMessage(chat);
  expect(answer.parts.filter((p) => p.type === "tool")).toEqual([
    expect.objectContaining({ toolName: "bash", state: "error", output }),
  ]);
}

/**
 * Resumes the last answer and follows it: the turn completes, and — as for any client that has just seen
 * message-end — the chat is at once no longer running and takes the next message. Returns the model call
 * the resumed turn made.
 */
async function expectResumes(chat: string, interrupted: ChatMessage): Promise<RecordedRequest> {
  const before = fake.requests.length;
  const res = await sse(`${base}/${chat}/messages/${interrupted.id}/resume`, { method: "POST" });
  expect(res.status).toBe(200);
  expect(res.ended).toBe(true);
  expect((res.events.at(-1)!.data as RunEvent).event).toMatchObject({
    type: "message-end",
    status: "completed",
  });
  const done = await lastMessage(chat);
  expect(done).toMatchObject({ role: "assistant", status: "completed", reason: "done" });
  expect(done.id).not.toBe(interrupted.id);
  const sent = fake.requests.slice(before).find((r) => r.path.endsWith("/chat/completions"));
  expect(sent, "the resumed turn called the model").toBeDefined();
  const next = await sse(`${base}/${chat}/messages`, { method: "POST", body: { content: "And now?" } });
  expect(next.status, JSON.stringify(next.events)).toBe(200);
  expect((next.events.at(-1)!.data as RunEvent).event).toMatchObject({ status: "completed" });
  return sent!;
}

/** Sandboxed commands of a dead server do not keep running. */
async function untilNoLeftover(command: string, ms = 10_000): Promise<string[]> {
  const end = Date.now() + ms;
  for (;;) {
    const found: string[] = [];
    for (const pid of (await readdir("/proc")).filter((d) => /^\d+$/.test(d))) {
      const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
      if (cmd.replaceAll("\0", " ").trim() === command) found.push(pid);
    }
    if (found.length === 0 || Date.now() > end) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  fake = await startFakeProvider();
  fake.setResponder((request) => {
    const said = lastUserText(readConversation(request));
    // The story stalls after PIECES chunks, so the test knows exactly what was said when the server dies.
    if (said === STREAM_PROMPT)
      return { hangAfterChunks: 1 + PIECES, reply: { text: STORY, chunkSize: CHUNK } };
    if (said === TOOL_PROMPT)
      return { toolCalls: [{ id: "call_long", name: "bash", arguments: { command: SLEEP } }] };
    return { text: "Picking up where I stopped: done." };
  });
  dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-restart-"));
  await startKiln();
  const signup = await fetch(`${running!.url}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: uniqueEmail("restart"), password: "a long password", name: "Restart" }),
  });
  expect(signup.status).toBe(201);
  token = ((await signup.json()) as { accessToken: string }).accessToken;
  const org = uniqueSlug("org");
  expect((await call("POST", "/api/orgs", { name: "Restart", slug: org })).status).toBe(201);
  const project = await call("POST", `/api/orgs/${org}/projects`, { name: "Survivor", template: "static" });
  expect(project.status).toBe(201);
  base = `/api/orgs/${org}/projects/${project.json.slug}/chats`;
}, 120_000);

afterAll(async () => {
  if (running) await stop(running, "SIGKILL");
  await fake?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function newChat(): Promise<string> {
  const res = await call("POST", base, {});
  expect(res.status).toBe(201);
  return res.json.id;
}

/** Starts a streaming turn and a turn inside a long sandboxed command, and waits until both are stored. */
async function startTwoTurns(): Promise<{
  story: string;
  tool: string;
  seen: SseMessage[];
  toolSeen: SseMessage[];
}> {
  const story = await newChat();
  const tool = await newChat();
  const seen = await sendAndLeave(story, STREAM_PROMPT, (events) => textOf(events) === SAID);
  const toolSeen = await sendAndLeave(tool, TOOL_PROMPT, (events) =>
    events.some((e) => e.event === "tool-call-start"),
  );
  expect(textOf(seen)).toBe(SAID);
  // Events are stored every 150 ms (ADR 0010); give the last batches time to land before the server goes.
  await new Promise((r) => setTimeout(r, 1_500));
  return { story, tool, seen, toolSeen };
}

describe("a turn in flight when the server goes away", () => {
  it("kill -9: stored events survive, the answer ends interrupted, replays to its end and resumes", async () => {
    const { story, tool, seen, toolSeen } = await startTwoTurns();
    const first = running!;
    expect(await stop(first, "SIGKILL")).toBeNull();
    expect(first.child.signalCode).toBe("SIGKILL");
    expect(await untilNoLeftover(SLEEP), "sandboxed command still running after kill -9").toEqual([]);

    await startKiln();
    const answer = await expectInterrupted(story, seen);
    await expectStoredStory(story);
    await expectInterrupted(tool, toolSeen);
    // Its result is unknown (it may have done part of its work), not "not run".
    await expectToolCallStopped(tool, INTERRUPTED_RESULT);

    const resumed = readConversation(await expectResumes(story, answer));
    expect(resumed.some((m) => m.role === "assistant" && m.text === SAID)).toBe(true);

    const toolAnswer = await lastMessage(tool);
    // The call that never finished is handed to the model with an "interrupted" result.
    expect(JSON.stringify((await expectResumes(tool, toolAnswer)).body)).toContain(INTERRUPTED_RESULT);
  }, 180_000);

  it("SIGTERM: the server stops its runs as interrupted, exits cleanly, and they resume after restart", async () => {
    const { story, tool, seen, toolSeen } = await startTwoTurns();
    const first = running!;
    expect(await stop(first, "SIGTERM"), first.output()).toBe(0);
    expect(first.output()).toContain("Kiln stopped");
    expect(await untilNoLeftover(SLEEP)).toEqual([]);

    await startKiln();
    const answer = await expectInterrupted(story, seen);
    await expectStoredStory(story);
    await expectInterrupted(tool, toolSeen);
    // The loop ends the aborted call itself (the agent's wording for any abort).
    await expectToolCallStopped(tool, "Cancelled by the user.");
    await expectResumes(story, answer);
  }, 120_000);
});
