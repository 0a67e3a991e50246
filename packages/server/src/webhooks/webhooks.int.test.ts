import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { testCertificate } from "../testing/tls.ts";
import { verifySignature } from "./signature.ts";

/**
 * Outbound webhooks against a real https receiver (its own CA, given to Kiln as KILN_EXTRA_CA_FILE; its
 * loopback address exempted by the operator): a job that ends is delivered signed and verified; a
 * receiver that fails twice gets the same delivery on the third try; internal addresses are refused.
 */

interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  verified: boolean;
}

let kiln: TestKiln;
let receiver: Server;
let receiverUrl: string;
let tmp: string;
const received: Received[] = [];
/** Answers to give, first one first; then 204. */
const answers: number[] = [];
const secrets = new Map<string, string>();

let owner: SignedUp;
let org: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "kiln-webhooks-"));
  const cert = await testCertificate(tmp, "127.0.0.1");
  receiver = createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => {
      const secret = secrets.get(req.url ?? "") ?? "";
      const verified = verifySignature(secret, body, req.headers["kiln-signature"] as string | undefined);
      received.push({ path: req.url ?? "", headers: req.headers, body, verified });
      res.statusCode = answers.shift() ?? (verified ? 204 : 401);
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as AddressInfo).port;
  receiverUrl = `https://127.0.0.1:${port}`;
  kiln = await startTestKiln({
    env: {
      KILN_EXTRA_CA_FILE: cert.caFile,
      KILN_EGRESS_ALLOW: `127.0.0.1:${port}`,
      KILN_WEBHOOK_RETRY_BASE_MS: "150",
      KILN_WEBHOOK_MAX_ATTEMPTS: "3",
    },
  });
  owner = await kiln.signup();
  org = uniqueSlug("hooks");
  expect((await owner.client.post("/api/orgs", { name: "Hooks", slug: org })).statusCode).toBe(201);
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  receiver?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect({ status: res.statusCode, code: res.json()?.error?.code }, res.body).toEqual({ status, code });
}

async function subscribe(pathName: string, families: string[], extra: object = {}) {
  const res = await owner.client.post(`/api/orgs/${org}/webhooks`, {
    url: `${receiverUrl}${pathName}`,
    families,
    ...extra,
  });
  expect(res.statusCode, res.body).toBe(201);
  const { webhook, secret } = res.json();
  expect(secret).toMatch(/^whsec_/);
  secrets.set(pathName, secret);
  return webhook as { id: string; secretHint: string };
}

async function until<T>(what: () => Promise<T | undefined> | T | undefined, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await what();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function deliveries(webhookId: string) {
  const res = await owner.client.get(`/api/orgs/${org}/webhooks/${webhookId}/deliveries`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Array<{ id: string; state: string; attempts: number; lastStatus: number | null }>;
}

describe("webhooks", () => {
  it("delivers a job's end, signed; the receiver verifies it; the secret is never shown again", async () => {
    const hook = await subscribe("/jobs", ["job"]);
    const project = (await owner.client.post(`/api/orgs/${org}/projects`, { name: "Hooked" })).json();
    const started = await owner.client.post(`/api/orgs/${org}/projects/${project.slug}/jobs`, {
      kind: "implement",
      instructions: "Add a counter",
    });
    expect(started.statusCode, started.body).toBe(201);
    const job = started.json();
    expect((await owner.client.post(`/api/orgs/${org}/jobs/${job.id}/cancel`)).statusCode).toBe(200);

    const got = await until(() => received.find((r) => r.path === "/jobs"));
    expect(got.verified).toBe(true);
    expect(got.headers["kiln-event"]).toBe("job.finished");
    const body = JSON.parse(got.body);
    expect(body).toMatchObject({
      event: "job.finished",
      org: { slug: org },
      projectId: project.id,
      data: { job: { id: job.id, state: "cancelled", kind: "implement" } },
    });
    const [delivery] = await until(async () => {
      const list = await deliveries(hook.id);
      return list[0]?.state === "succeeded" ? list : undefined;
    });
    expect(delivery).toMatchObject({ id: got.headers["kiln-delivery"], attempts: 1, lastStatus: 204 });

    const listed = (await owner.client.get(`/api/orgs/${org}/webhooks`)).json();
    expect(JSON.stringify(listed)).not.toContain(secrets.get("/jobs"));
    expect(listed[0].secretHint).toBe(secrets.get("/jobs")?.slice(-4));
  });

  it("retries a failing receiver with backoff: fails twice, gets it on the third try; redelivers on demand", async () => {
    const hook = await subscribe("/flaky", ["member"]);
    answers.push(500, 503);
    await kiln.services.webhooks.emit(
      await kiln.services.orgs.row((await orgRow()).id),
      "member.joined",
      null,
      {
        member: { userId: owner.user.id },
      },
    );
    const list = await until(async () => {
      const l = await deliveries(hook.id);
      return l[0]?.state === "succeeded" ? l : undefined;
    });
    expect(list[0]).toMatchObject({ attempts: 3, lastStatus: 204 });
    const tries = received.filter((r) => r.path === "/flaky");
    expect(tries).toHaveLength(3);
    // One delivery, tried three times: the same delivery id and event id each time.
    expect(new Set(tries.map((t) => t.headers["kiln-delivery"])).size).toBe(1);
    expect(new Set(tries.map((t) => JSON.parse(t.body).id)).size).toBe(1);

    const again = await owner.client.post(
      `/api/orgs/${org}/webhooks/${hook.id}/deliveries/${list[0]!.id}/redeliver`,
    );
    expect(again.statusCode, again.body).toBe(202);
    await until(() => (received.filter((r) => r.path === "/flaky").length === 4 ? true : undefined));
    const last = received.filter((r) => r.path === "/flaky").at(-1)!;
    expect(last.headers["kiln-delivery"]).toBe(again.json().id);
    expect(JSON.parse(last.body).id).toBe(JSON.parse(tries[0]!.body).id);
  });

  it("gives up after the last attempt, and stops a deleted webhook's deliveries", async () => {
    const hook = await subscribe("/down", ["task"]);
    answers.push(500, 500, 500);
    const orgId = (await orgRow()).id;
    await kiln.services.webhooks.emit(await kiln.services.orgs.row(orgId), "task.created", null, {
      task: {},
    });
    const [failed] = await until(async () => {
      const l = await deliveries(hook.id);
      return l[0]?.state === "failed" ? l : undefined;
    });
    expect(failed).toMatchObject({ attempts: 3, lastStatus: 500 });

    const paused = await subscribe("/paused", ["task"]);
    const patched = await owner.client.patch(`/api/orgs/${org}/webhooks/${paused.id}`, { active: false });
    expect([patched.statusCode, patched.json().active]).toEqual([200, false]);
    await kiln.services.webhooks.emit(await kiln.services.orgs.row(orgId), "task.created", null, {
      task: {},
    });
    expect(await deliveries(paused.id)).toEqual([]);
    expect((await owner.client.delete(`/api/orgs/${org}/webhooks/${paused.id}`)).statusCode).toBe(200);
    expectError(
      await owner.client.get(`/api/orgs/${org}/webhooks/${paused.id}/deliveries`),
      404,
      "webhook_not_found",
    );
  });

  it("tells a member joining and leaving, and a task created and moved on the board", async () => {
    await subscribe("/people", ["member", "task"]);
    const project = (await owner.client.post(`/api/orgs/${org}/projects`, { name: "Board" })).json();
    const newcomer = await kiln.signup();
    const invited = await owner.client.post(`/api/orgs/${org}/invitations`, {
      email: newcomer.user.email,
      role: "developer",
    });
    const token = new URL(invited.json().url).pathname.split("/").pop();
    expect((await newcomer.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
    expect((await newcomer.client.delete(`/api/orgs/${org}/members/${newcomer.user.id}`)).statusCode).toBe(
      200,
    );
    const board = `/api/orgs/${org}/projects/${project.slug}`;
    const task = await owner.client.post(`${board}/tasks`, { title: "Tell the hooks" });
    expect(task.statusCode, task.body).toBe(201);
    const statuses = (await owner.client.get(`${board}/workflow`)).json().statuses;
    const moved = await owner.client.post(`${board}/tasks/${task.json().id}/move`, {
      statusId: statuses.at(-1).id,
    });
    expect(moved.statusCode, moved.body).toBe(200);

    const events = await until(() => {
      const got = received.filter((r) => r.path === "/people").map((r) => JSON.parse(r.body));
      return got.length >= 4 ? got : undefined;
    });
    expect(received.filter((r) => r.path === "/people").every((r) => r.verified)).toBe(true);
    expect(events.map((e) => e.event).sort()).toEqual([
      "member.joined",
      "member.removed",
      "task.created",
      "task.moved",
    ]);
    expect(events.find((e) => e.event === "member.joined").data.member).toMatchObject({
      userId: newcomer.user.id,
      role: "developer",
    });
    expect(events.find((e) => e.event === "member.removed").data.member).toMatchObject({ left: true });
    const created = events.find((e) => e.event === "task.created");
    expect(created).toMatchObject({ projectId: project.id, data: { taskId: task.json().id } });
  });

  it("tells a deployment's end, with its public URL", async () => {
    await subscribe("/deploys", ["deployment"]);
    const project = (
      await owner.client.post(`/api/orgs/${org}/projects`, { name: "Shipped", template: "static" })
    ).json();
    const published = await owner.client.post(`/api/orgs/${org}/projects/${project.slug}/deployments`);
    expect(published.statusCode, published.body).toBe(202);
    const got = await until(() => received.find((r) => r.path === "/deploys"), 60_000);
    expect(got.verified).toBe(true);
    const body = JSON.parse(got.body);
    expect(body).toMatchObject({
      event: "deployment.finished",
      projectId: project.id,
      data: { deployment: { id: published.json().id, status: "ready", target: null, error: null } },
    });
    expect(body.data.deployment.url).toContain(`${project.slug}--${org}.`);
  }, 90_000);

  it("narrows a webhook to one project's events", async () => {
    const a = (await owner.client.post(`/api/orgs/${org}/projects`, { name: "A side" })).json();
    const b = (await owner.client.post(`/api/orgs/${org}/projects`, { name: "B side" })).json();
    const hook = await subscribe("/only-a", ["deployment"], { project: a.slug });
    const row = await kiln.services.orgs.row((await orgRow()).id);
    await kiln.services.webhooks.emit(row, "deployment.finished", b.id, { n: "b" });
    await kiln.services.webhooks.emit(row, "deployment.finished", a.id, { n: "a" });
    await kiln.services.webhooks.emit(row, "deployment.finished", null, { n: "org" });
    await until(() => (received.some((r) => r.path === "/only-a") ? true : undefined));
    await new Promise((r) => setTimeout(r, 300));
    const got = received.filter((r) => r.path === "/only-a").map((r) => JSON.parse(r.body).data.n);
    expect(got).toEqual(["a"]);
    expect((await deliveries(hook.id)).length).toBe(1);
  });

  it("refuses internal, plain-http, credentialed and garbage URLs with clear 4xx codes", async () => {
    const post = (body: object) => owner.client.post(`/api/orgs/${org}/webhooks`, body);
    for (const url of [
      "https://10.0.0.8/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://127.0.0.1:1/hook",
      "https://[::1]/hook",
      "https://192.168.1.1/hook",
    ]) {
      const res = await post({ url, families: ["job"] });
      expect(res.json().error?.code, url).toBe("egress_refused");
      expect(res.statusCode).toBe(400);
    }
    for (const url of ["http://example.com/hook", `https://user:pw@${receiverUrl.slice(8)}/x`]) {
      const res = await post({ url, families: ["job"] });
      expect(res.json().error?.code, url).toBe("webhook_url_invalid");
      expect(res.statusCode).toBe(400);
    }
    for (const body of [
      {},
      { url: "not a url", families: ["job"] },
      { url: "ftp://example.com/x", families: ["job"] },
      { url: "javascript:alert(1)", families: ["job"] },
      { url: `${receiverUrl}/x`, families: [] },
      { url: `${receiverUrl}/x`, families: ["everything"] },
      { url: `${receiverUrl}/${"x".repeat(2100)}`, families: ["job"] },
      { url: `${receiverUrl}/x`, families: ["job"], secret: "mine" },
    ]) {
      expectError(await post(body), 400, "validation_failed");
    }
    expectError(
      await post({ url: `${receiverUrl}/x`, families: ["job"], project: "no-such-project" }),
      404,
      "project_not_found",
    );
  });

  it("is an admin's: a developer is refused, another org's webhook is not found", async () => {
    const hook = await subscribe("/mine", ["job"]);
    const dev = await kiln.signup();
    const invited = await owner.client.post(`/api/orgs/${org}/invitations`, {
      email: dev.user.email,
      role: "developer",
    });
    const token = new URL(invited.json().url).pathname.split("/").pop();
    expect((await dev.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
    expectError(await dev.client.get(`/api/orgs/${org}/webhooks`), 403, "forbidden");

    const stranger = await kiln.signup();
    const other = uniqueSlug("other");
    await stranger.client.post("/api/orgs", { name: "Other", slug: other });
    for (const res of [
      await stranger.client.get(`/api/orgs/${other}/webhooks/${hook.id}/deliveries`),
      await stranger.client.patch(`/api/orgs/${other}/webhooks/${hook.id}`, { active: false }),
      await stranger.client.delete(`/api/orgs/${other}/webhooks/${hook.id}`),
    ]) {
      expectError(res, 404, "webhook_not_found");
    }
  });
});

async function orgRow() {
  const res = await owner.client.get(`/api/orgs/${org}`);
  return res.json() as { id: string };
}
