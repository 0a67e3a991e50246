import { randomUUID } from "node:crypto";
import type { Role } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln } from "../testing/harness.ts";

/** The jobs and worker-token API as members of each role see it. (Route-wide sweeps live in orgs/ and http/.) */

let kiln: TestKiln;
let owner: SignedUp;
let base: string;
let project: string;

beforeAll(async () => {
  kiln = await startTestKiln({ env: { KILN_JOB_SWEEP_SECONDS: "0" } });
  owner = await kiln.signup();
  // A shared org, so other roles can be invited (personal orgs are the owner's alone).
  const org = await owner.client.post("/api/orgs", { name: "Team", slug: `team-${Date.now().toString(36)}` });
  base = `/api/orgs/${org.json().slug}`;
  project = (await owner.client.post(`${base}/projects`, { name: "App" })).json().slug;
}, 60_000);
afterAll(() => kiln?.stop());

async function member(role: Role): Promise<SignedUp> {
  const m = await kiln.signup();
  const invited = await owner.client.post(`${base}/invitations`, { email: m.user.email, role });
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await m.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  return m;
}

const codeOf = (res: LightMyRequestResponse) => [res.statusCode, res.json().error?.code];

describe("jobs", () => {
  it("a developer starts and cancels jobs; a viewer only reads them", async () => {
    const dev = await member("developer");
    const viewer = await member("viewer");
    const started = await dev.client.post(`${base}/projects/${project}/jobs`, {
      kind: "implement",
      instructions: "Add a footer",
    });
    expect(started.statusCode).toBe(201);
    const job = started.json();
    expect(job).toMatchObject({
      kind: "implement",
      instructions: "Add a footer",
      state: "queued",
      attempt: 0,
      taskId: null,
      requestedBy: dev.user.id,
      cancelRequested: false,
      failure: null,
      result: null,
    });
    expect((await viewer.client.get(`${base}/jobs/${job.id}`)).json().id).toBe(job.id);
    expect((await viewer.client.get(`${base}/jobs?projectId=${job.projectId}`)).json()[0].id).toBe(job.id);
    expect(codeOf(await viewer.client.post(`${base}/jobs/${job.id}/cancel`))).toEqual([403, "forbidden"]);
    expect(
      codeOf(
        await viewer.client.post(`${base}/projects/${project}/jobs`, { kind: "fix", instructions: "x" }),
      ),
    ).toEqual([403, "forbidden"]);
    const cancelled = await dev.client.post(`${base}/jobs/${job.id}/cancel`);
    expect(cancelled.json()).toMatchObject({ state: "cancelled", failure: { code: "cancelled" } });
    const events = (await viewer.client.get(`${base}/jobs/${job.id}/events`)).json();
    expect(events.map((e: { seq: number; event: { type: string } }) => [e.seq, e.event.type])).toEqual([
      [1, "state"],
      [2, "state"],
    ]);
    expect((await viewer.client.get(`${base}/jobs/${job.id}/events?after=1`)).json()).toHaveLength(1);
    expect(
      (
        await viewer.client.get(`${base}/jobs/${job.id}/events`, { headers: { "last-event-id": "2" } })
      ).json(),
    ).toEqual([]);
  });

  it("refuses bad starts and bad filters with 400, unknown ids with 404", async () => {
    const post = (body: unknown) => owner.client.post(`${base}/projects/${project}/jobs`, body);
    expect(codeOf(await post({ kind: "deploy", instructions: "x" }))).toEqual([400, "validation_failed"]);
    expect(codeOf(await post({ kind: "fix", instructions: "   " }))).toEqual([400, "validation_failed"]);
    expect(codeOf(await post({ kind: "fix" }))).toEqual([400, "validation_failed"]);
    expect(codeOf(await post({ kind: "fix", instructions: "x".repeat(20_001) }))).toEqual([
      400,
      "validation_failed",
    ]);
    expect(
      codeOf(await owner.client.post(`${base}/projects/nope/jobs`, { kind: "fix", instructions: "x" })),
    ).toEqual([404, "project_not_found"]);
    for (const query of ["limit=0", "limit=201", "state=stuck", "projectId=..%2F", "taskId=1", "extra=1"]) {
      expect(codeOf(await owner.client.get(`${base}/jobs?${query}`)), query).toEqual([
        400,
        "validation_failed",
      ]);
    }
    const missing = "00000000-0000-4000-8000-000000000000";
    expect(codeOf(await owner.client.get(`${base}/jobs/${missing}`))).toEqual([404, "job_not_found"]);
    expect(codeOf(await owner.client.post(`${base}/jobs/${missing}/cancel`))).toEqual([404, "job_not_found"]);
    // Even as a stream: the 404 comes before any event.
    const stream = await owner.client.get(`${base}/jobs/${missing}/events`, {
      headers: { accept: "text/event-stream" },
    });
    expect(codeOf(stream)).toEqual([404, "job_not_found"]);
    expect(codeOf(await owner.client.get(`${base}/jobs/not-a-uuid`))).toEqual([400, "validation_failed"]);
  });

  it("a finished job cannot be cancelled: 409 job_not_active", async () => {
    const job = (
      await owner.client.post(`${base}/projects/${project}/jobs`, { kind: "review", instructions: "x" })
    ).json();
    const worker = { workerId: randomUUID(), orgId: job.orgId };
    // A worker row for the claim; real workers register over the socket (socket.int.test.ts).
    await kiln.database.db.execute(sql`INSERT INTO workers (id, org_id, name, version, concurrency)
      VALUES (${worker.workerId}::uuid, ${worker.orgId}::uuid, 'w', '1', 1)`);
    const [claimed] = await kiln.services.jobs.queue.claim(worker, 1);
    expect(claimed?.job.id).toBe(job.id);
    await kiln.services.jobs.queue.complete(worker, job.id, 1, { summary: "ok", branch: null, commit: null });
    expect(codeOf(await owner.client.post(`${base}/jobs/${job.id}/cancel`))).toEqual([409, "job_not_active"]);
  });
});

describe("worker tokens", () => {
  it("an admin creates one (shown once), lists and revokes it; below admin nobody may", async () => {
    const admin = await member("admin");
    const dev = await member("developer");
    const created = await admin.client.post(`${base}/workers/tokens`, { name: "build box" });
    expect(created.statusCode).toBe(201);
    const token = created.json();
    expect(token.token).toMatch(/^kiln_wrk_[A-Za-z0-9_-]{40,}$/);
    expect(token.token.startsWith(token.prefix)).toBe(true);
    expect(token.createdBy).toBe(admin.user.id);
    const listed = (await admin.client.get(`${base}/workers/tokens`)).json();
    expect(listed.find((t: { id: string }) => t.id === token.id)).toEqual({
      id: token.id,
      name: "build box",
      prefix: token.prefix,
      createdBy: admin.user.id,
      createdAt: token.createdAt,
      lastUsedAt: null,
    });
    expect(JSON.stringify(listed)).not.toContain(token.token);
    expect(codeOf(await dev.client.get(`${base}/workers/tokens`))).toEqual([403, "forbidden"]);
    expect(codeOf(await dev.client.post(`${base}/workers/tokens`, { name: "mine" }))).toEqual([
      403,
      "forbidden",
    ]);
    expect(codeOf(await dev.client.delete(`${base}/workers/tokens/${token.id}`))).toEqual([403, "forbidden"]);
    expect((await dev.client.get(`${base}/workers`)).statusCode).toBe(200);

    expect((await admin.client.delete(`${base}/workers/tokens/${token.id}`)).json()).toEqual({ ok: true });
    expect(codeOf(await admin.client.delete(`${base}/workers/tokens/${token.id}`))).toEqual([
      404,
      "worker_token_not_found",
    ]);
    expect(
      (await admin.client.get(`${base}/workers/tokens`)).json().map((t: { id: string }) => t.id),
    ).not.toContain(token.id);
    await expect(kiln.services.jobs.authenticateWorker(token.token)).rejects.toMatchObject({
      code: "token_invalid",
    });
  });
});
