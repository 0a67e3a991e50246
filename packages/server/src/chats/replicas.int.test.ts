import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { ChatMessage, RunEvent } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { isolatedDatabase } from "../testing/jobs.ts";
import { openSse } from "../testing/sse.ts";

/**
 * Two replicas of one Kiln (one database, one data directory): a turn runs on the replica that took the
 * message, and the user's next request — an approval, a cancel — may land on the other one. It must still
 * reach the turn (through the database's LISTEN/NOTIFY).
 */

let fake: FakeProvider;
let isolated: Awaited<ReturnType<typeof isolatedDatabase>>;
let dataDir: string;
let front: TestKiln;
let back: TestKiln;
let owner: SignedUp;
/** The same signed-in user, talking to the other replica. */
let other: TestClient;
let org: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  isolated = await isolatedDatabase();
  dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-chat-replicas-"));
  const env = {
    OPENAI_BASE_URL: `${fake.url}/v1`,
    OPENAI_API_KEY: "fake-key",
    KILN_MODEL: "openai/fake-model",
    KILN_SECRET_KEY: randomBytes(32).toString("base64"),
    KILN_APPROVAL_TIMEOUT_SECONDS: "60",
  };
  front = await startTestKiln({ database: isolated.database, dataDir, env });
  back = await startTestKiln({ database: isolated.database, dataDir, env });
  owner = await front.signup();
  other = new TestClient(back.app);
  for (const [name, cookie] of owner.client.cookies) other.cookies.set(name, cookie);
  org = uniqueSlug("org");
  await owner.client.post("/api/orgs", { name: "Replicas", slug: org });
}, 120_000);

afterAll(async () => {
  await front?.stop();
  await back?.stop();
  await isolated?.drop();
  await fake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function newChat(body: object = {}): Promise<{ base: string; project: string }> {
  const project = (
    await owner.client.post(`/api/orgs/${org}/projects`, { name: "Two replicas", template: "static" })
  ).json().slug as string;
  const chat = (await owner.client.post(`/api/orgs/${org}/projects/${project}/chats`, body)).json().id;
  return { base: `/api/orgs/${org}/projects/${project}/chats/${chat}`, project };
}

async function lastMessage(base: string): Promise<ChatMessage> {
  return (await other.get(base)).json().messages.at(-1);
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > end) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a turn running on one replica", () => {
  it("takes approval decisions sent to the other replica", async () => {
    const { base, project } = await newChat({ mode: "ask" });
    fake.reset();
    fake.enqueue(
      { toolCalls: [{ name: "write_file", arguments: { path: "yes.txt", content: "approved\n" } }] },
      { toolCalls: [{ name: "write_file", arguments: { path: "no.txt", content: "rejected\n" } }] },
      { text: "done" },
    );
    expect((await owner.client.post(`${base}/messages`, { content: "write two files" })).statusCode).toBe(
      202,
    );
    const waitingCall = async () =>
      (await lastMessage(base)).parts.find((p) => p.type === "tool" && p.state === "awaiting-approval");
    const first = await until(waitingCall, Boolean);
    expect(first?.type).toBe("tool");
    const firstId = first?.type === "tool" ? first.toolCallId : "";

    // A call that does not wait is refused by the other replica too, and leaves the waiting one alone.
    const wrong = await other.post(`${base}/approvals`, { toolCallId: "nope", decision: "approve" });
    expect(wrong.statusCode).toBe(404);
    expect(wrong.json().error.code).toBe("approval_not_found");

    const approved = await other.post(`${base}/approvals`, { toolCallId: firstId, decision: "approve" });
    expect(approved.statusCode).toBe(200);
    const second = await until(
      waitingCall,
      (p) => Boolean(p) && p?.type === "tool" && p.toolCallId !== firstId,
    );
    const secondId = second?.type === "tool" ? second.toolCallId : "";
    expect(
      (await other.post(`${base}/approvals`, { toolCallId: secondId, decision: "reject" })).statusCode,
    ).toBe(200);
    // The same decision again: nothing waits any more.
    expect(
      (await other.post(`${base}/approvals`, { toolCallId: secondId, decision: "approve" })).statusCode,
    ).toBe(404);

    const last = await until(
      () => lastMessage(base),
      (m) => m.status !== "running",
    );
    expect(last.status).toBe("completed");
    const files = `/api/orgs/${org}/projects/${project}/files/content`;
    expect((await other.get(`${files}?path=yes.txt`)).statusCode).toBe(200);
    expect((await other.get(`${files}?path=no.txt`)).statusCode).toBe(404);
  }, 60_000);

  it("is cancelled from the other replica", async () => {
    const { base } = await newChat();
    fake.reset();
    fake.enqueue({ text: "x".repeat(2000), chunkSize: 2, delayMs: 20 });
    expect((await owner.client.post(`${base}/messages`, { content: "long" })).statusCode).toBe(202);
    await until(
      () => lastMessage(base),
      (m) => m.parts.some((p) => p.type === "text" && p.text.length > 10),
    );
    const cancelled = await other.post(`${base}/cancel`);
    expect(cancelled.statusCode).toBe(200);
    // The answer waited until the turn had stopped on the replica running it.
    expect(cancelled.json().runningMessageId ?? null).toBeNull();
    const last = await lastMessage(base);
    expect(last).toMatchObject({ status: "cancelled", reason: "cancelled" });
    expect((await other.post(`${base}/cancel`)).json().error.code).toBe("run_not_active");
  }, 60_000);

  it("streams to many followers on the other replica, each from its own place, every event once", async () => {
    const { base } = await newChat();
    await back.app.listen({ port: 0, host: "127.0.0.1" });
    const url = (messageId: string) =>
      `http://127.0.0.1:${(back.app.server.address() as AddressInfo).port}${base}/messages/${messageId}/events`;
    const headers = { cookie: [...other.cookies].map(([k, v]) => `${k}=${v.value}`).join("; ") };
    fake.reset();
    fake.enqueue({ text: "y".repeat(600), chunkSize: 6, delayMs: 15 });
    const sent = await owner.client.post(`${base}/messages`, { content: "long" });
    const messageId = sent.json().assistantMessage.id as string;
    // The back replica does not run the turn: it follows the stored events, one poller for all of them.
    const first = await openSse(url(messageId), headers);
    await until(
      async () => first.events.length,
      (n) => n >= 5,
    );
    const starts = [0, 0, 1, 2, 3, 4, 5, 0];
    const rest = await Promise.all(
      starts.map((from) =>
        openSse(url(messageId), from === 0 ? headers : { ...headers, "last-event-id": String(from) }),
      ),
    );
    const all = [first, ...rest];
    await Promise.all(all.map((s) => s.ended));
    const stored = (await other.get(`${base}/messages/${messageId}/events?after=0`)).json() as RunEvent[];
    const last = stored.at(-1)!;
    expect(last.event.type).toBe("message-end");
    [0, ...starts].forEach((from, i) => {
      expect(
        all[i]!.events.map((e) => e.id),
        `follower ${i}`,
      ).toEqual(stored.filter((e) => e.seq > from).map((e) => e.seq));
    });
  }, 60_000);
});
