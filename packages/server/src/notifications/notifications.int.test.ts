import type { AddressInfo } from "node:net";
import { ACCESS_COOKIE, type Notification } from "@kiln/protocol";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orgs } from "../db/schema-shared.ts";
import { deployments } from "../db/schema-tenant.ts";
import { type Board, createTask, newBoard } from "../testing/board.ts";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln } from "../testing/harness.ts";
import { TestWorker } from "../testing/jobs.ts";
import { readSse } from "../testing/sse.ts";
import { notificationTriggers } from "./triggers.ts";

/**
 * Notifications end to end: a review waiting reaches the reviewer's inbox live (over the SSE stream) and by
 * mail, batched with a mention that came right after; preferences turn a kind off per channel; nobody hears
 * of their own action; owners hear who joined; a deployment's creator hears it finished. Hostile callers:
 * routes.int.test.ts.
 */

const DELAY_MS = 3000;
let kiln: TestKiln;
let httpBase: string;
let socketUrl: string;
let board: Board;
let bob: SignedUp;
let carol: SignedUp;
let workerToken: string;
const workers: TestWorker[] = [];

beforeAll(async () => {
  kiln = await startTestKiln({
    env: {
      KILN_NOTIFY_EMAIL_DELAY_MS: String(DELAY_MS),
      KILN_JOB_SWEEP_SECONDS: "0",
    },
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = kiln.app.server.address() as AddressInfo;
  httpBase = `http://127.0.0.1:${port}`;
  socketUrl = `ws://127.0.0.1:${port}/api/workers/socket`;
  const owner = await kiln.signup({ name: "Alice Owner" });
  const created = await owner.client.post("/api/orgs", {
    name: "Notify",
    slug: `notify-${Date.now().toString(36)}`,
  });
  expect(created.statusCode, created.body).toBe(201);
  board = await newBoard(kiln, { slug: created.json().slug, id: created.json().id, owner });
  bob = await joinAs(board, "Bob Reviewer");
  carol = await joinAs(board, "Carol Third");
  const token = await owner.client.post(`/api/orgs/${board.org}/workers/tokens`, { name: "ci" });
  expect(token.statusCode).toBe(201);
  workerToken = token.json().token;
}, 120_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
  await kiln?.stop();
});

/** Signs up `name` and brings them into the board's org through an invitation, as a person would. */
async function joinAs(b: Board, name: string): Promise<SignedUp> {
  const member = await kiln.signup({ name });
  const invited = await b.owner.client.post(`/api/orgs/${b.org}/invitations`, {
    email: member.user.email,
    role: "developer",
  });
  expect(invited.statusCode, invited.body).toBe(201);
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  return member;
}

const cookieOf = (client: TestClient) => `${ACCESS_COOKIE}=${client.cookies.get(ACCESS_COOKIE)!.value}`;

async function inbox(who: SignedUp, query = ""): Promise<{ items: Notification[]; unread: number }> {
  const res = await who.client.get(`/api/notifications${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

const mailsTo = (who: SignedUp) =>
  kiln.mails.sent.filter((m) => m.to === who.user.email && m.subject.startsWith("Kiln:"));

async function assign(taskId: string, who: SignedUp, by: TestClient = board.owner.client) {
  const res = await by.patch(`${board.base}/tasks/${taskId}`, {
    assignee: { type: "member", userId: who.user.id },
  });
  expect(res.statusCode, res.body).toBe(200);
}

async function comment(taskId: string, body: string, by: TestClient = board.owner.client) {
  const res = await by.post(`${board.base}/tasks/${taskId}/comments`, { body });
  expect(res.statusCode, res.body).toBe(201);
}

/** An agent's implement job on `taskId`, run to completion with a branch by a worker over the real socket. */
async function completeAgentJob(taskId: string): Promise<void> {
  const [org] = await kiln.database.db.select().from(orgs).where(eq(orgs.id, board.orgId));
  const w = await TestWorker.connect(socketUrl, workerToken);
  workers.push(w);
  await w.register();
  const { jobId } = await kiln.services.jobs.startJob({
    org: org!,
    projectId: board.projectId,
    taskId,
    kind: "implement",
    requestedBy: board.owner.user.id,
  });
  await w.waitFor("job", (m) => m.job.id === jobId);
  w.send({ type: "heartbeat", jobIds: [jobId] });
  const since = w.received.length;
  w.send({
    type: "complete",
    jobId,
    attempt: 1,
    result: { summary: "Built it", branch: `kiln/job-${jobId}`, commit: "c".repeat(40) },
  });
  await w.waitFor("ack", (m) => m.jobId === jobId, since);
}

describe("notifications", () => {
  it("a review waiting reaches the reviewer live and by one batched mail with a mention right after", async () => {
    const task = await createTask(board, { title: "Login page" });
    const assignedBefore = mailsTo(bob).length;
    await assign(task.id, bob);
    // The assignment's own mail leaves first, so the two below make a batch of their own.
    await expect.poll(() => mailsTo(bob).length, { timeout: 15_000 }).toBe(assignedBefore + 1);
    expect(mailsTo(bob).at(-1)!.subject).toBe("Kiln: You were assigned #1 Login page");
    const live = readSse(`${httpBase}/api/notifications/stream`, {
      headers: { cookie: cookieOf(bob.client) },
      until: (events) =>
        events.some(
          (e) =>
            e.event === "notification" &&
            (e.data as { notification: Notification }).notification.kind === "review_waiting",
        ),
      timeoutMs: 30_000,
    });
    await new Promise((r) => setTimeout(r, 200));
    const mailsBefore = mailsTo(bob).length;
    await completeAgentJob(task.id);
    const stream = await live;
    expect(stream.status).toBe(200);
    expect(stream.events[0]).toMatchObject({ event: "unread" });
    const pushed = stream.events.at(-1)!.data as { notification: Notification; unread: number };
    expect(pushed.notification).toMatchObject({
      kind: "review_waiting",
      title: "Review waiting: #1 Login page",
      link: `/${board.org}/${board.project}?view=board`,
    });
    expect(pushed.unread).toBeGreaterThanOrEqual(1);
    await comment(task.id, "@bob could you look at the login page before Friday?");

    const listed = await inbox(bob);
    expect(listed.items.map((n) => n.kind).slice(0, 2)).toEqual(["mention", "review_waiting"]);
    // The requester (Alice) hears the job finished; the reviewer is not told twice.
    expect((await inbox(board.owner)).items.map((n) => n.kind)).toContain("job_finished");
    expect(listed.items.filter((n) => n.kind === "job_finished")).toEqual([]);

    await expect.poll(() => mailsTo(bob).length - mailsBefore, { timeout: 15_000 }).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 300));
    const mails = mailsTo(bob).slice(mailsBefore);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe("Kiln: 2 new notifications");
    expect(mails[0]!.text).toContain("Review waiting: #1 Login page");
    expect(mails[0]!.text).toContain("You were mentioned on #1 Login page");
    expect(mails[0]!.text).toContain(`http://localhost:4000/${board.org}/${board.project}?view=board`);
  }, 50_000);

  it("marks one and all read; read before the mail leaves, it is not mailed", async () => {
    const task = await createTask(board, { title: "Signup page" });
    const before = mailsTo(bob).length;
    await assign(task.id, bob);
    const { items, unread } = await inbox(bob, "?unread=true");
    const assigned = items.find((n) => n.kind === "task_assigned" && n.title.includes("Signup page"))!;
    expect(assigned).toBeDefined();
    const read = await bob.client.post(`/api/notifications/${assigned.id}/read`);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().readAt).not.toBeNull();
    expect((await inbox(bob)).unread).toBe(unread - 1);
    await new Promise((r) => setTimeout(r, DELAY_MS + 800));
    expect(mailsTo(bob).slice(before)).toEqual([]);
    const all = await bob.client.post("/api/notifications/read-all");
    expect(all.json()).toEqual({ unread: 0 });
    expect((await inbox(bob, "?unread=true")).items).toEqual([]);
  }, 20_000);

  it("honours preferences per kind and channel", async () => {
    const prefs = await carol.client.get("/api/notifications/preferences");
    expect(prefs.json()).toContainEqual({ kind: "review_waiting", channel: "email", enabled: true });
    expect(prefs.json()).toContainEqual({ kind: "job_finished", channel: "email", enabled: false });
    const put = await carol.client.put("/api/notifications/preferences", {
      preferences: [
        { kind: "mention", channel: "email", enabled: false },
        { kind: "task_assigned", channel: "in_app", enabled: false },
      ],
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toContainEqual({ kind: "mention", channel: "email", enabled: false });
    const before = mailsTo(carol).length;
    const task = await createTask(board, { title: "Pricing page" });
    await assign(task.id, carol);
    await comment(task.id, "Thanks @carol.");
    const kinds = (await inbox(carol)).items.map((n) => n.kind);
    expect(kinds).toContain("mention");
    expect(kinds).not.toContain("task_assigned");
    await expect.poll(() => mailsTo(carol).length - before, { timeout: 15_000 }).toBe(1);
    const [mail] = mailsTo(carol).slice(before);
    expect(mail!.subject).toBe("Kiln: You were assigned #3 Pricing page");
    expect(mail!.text).not.toContain("mentioned");
  }, 30_000);

  it("never tells people about their own action; owners hear who joined", async () => {
    const aliceBefore = (await inbox(board.owner)).items.length;
    const task = await createTask(board, { title: "Self" });
    await assign(task.id, board.owner);
    await comment(task.id, "note to self @alice");
    const after = await inbox(board.owner);
    expect(after.items.length).toBe(aliceBefore);
    // Bob and Carol joined in beforeAll: Alice, the owner, heard of each; they did not hear of themselves.
    const joined = after.items.filter((n) => n.kind === "member_joined");
    expect(joined.map((n) => n.title)).toEqual(["Carol Third joined Notify", "Bob Reviewer joined Notify"]);
    expect(after.items.filter((n) => n.kind === "member_joined")).toHaveLength(2);
    expect((await inbox(bob)).items.filter((n) => n.kind === "member_joined")).toEqual([]);
  });

  it("tells a deployment's creator it finished (the org event the pipeline emits)", async () => {
    const [org] = await kiln.database.db.select().from(orgs).where(eq(orgs.id, board.orgId));
    const id = crypto.randomUUID();
    await kiln.database.tenant(org!.schemaName, (tx) =>
      tx
        .insert(deployments)
        .values({ id, projectId: board.projectId, number: 900, status: "failed", createdBy: bob.user.id }),
    );
    // The same triggers Kiln wires to its org events, told what deployments/pipeline.ts emits.
    const triggers = notificationTriggers({
      database: kiln.database,
      orgs: kiln.services.orgs,
      notifications: kiln.services.notifications,
      log: { warn: () => {} },
    });
    triggers.events.emit(board.orgId, "deployment.finished", board.projectId, {
      deployment: { id, status: "failed", target: null, url: null, error: "build failed: exit 1" },
    });
    await expect
      .poll(async () => (await inbox(bob)).items.find((n) => n.kind === "deployment_finished"))
      .toMatchObject({ title: "Deployment of Board project failed", body: "build failed: exit 1" });
    // A deployment id of another org's (or none) tells nobody.
    triggers.events.emit(board.orgId, "deployment.finished", board.projectId, {
      deployment: { id: crypto.randomUUID(), status: "ready" },
    });
    await new Promise((r) => setTimeout(r, 300));
    expect((await inbox(bob)).items.filter((n) => n.kind === "deployment_finished")).toHaveLength(1);
  });
});
