import type { AddressInfo } from "node:net";
import type { Role } from "@kiln/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { type OpenSse, openSse } from "../testing/sse.ts";

/**
 * A user who opens live streams without end (one viewer token, thousands of tabs or a script) held a
 * socket, timers and a database poller per stream and slowed every tenant down. Each user gets
 * KILN_MAX_STREAMS_PER_USER streams at once over every live route; one more is a 429 `too_many_streams`,
 * and a slot comes back when its stream closes, however it closes.
 */

const CAP = 5;
let kiln: TestKiln;
let http: string;
let owner: SignedUp;
let org: string;
let project: string;
let jobId: string;
const opened: OpenSse[] = [];

beforeAll(async () => {
  kiln = await startTestKiln({
    env: { KILN_MAX_STREAMS_PER_USER: String(CAP), KILN_JOB_SWEEP_SECONDS: "0" },
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  http = `http://127.0.0.1:${(kiln.app.server.address() as AddressInfo).port}`;
  owner = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Flood", slug: uniqueSlug("flood") })).json().slug;
  project = (await owner.client.post(`/api/orgs/${org}/projects`, { name: "App" })).json().slug;
  // Queued with no worker to take it: its stream stays open.
  jobId = (
    await owner.client.post(`/api/orgs/${org}/projects/${project}/jobs`, {
      kind: "review",
      instructions: "x",
    })
  ).json().id;
}, 120_000);

afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});
// Each test has a viewer of its own, so slots the previous test is still giving back do not count.
afterAll(() => kiln?.stop());

async function join(role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await owner.client.post(`/api/orgs/${org}/invitations`, { email: member.user.email, role });
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  return member;
}

/** Every live route of the API: each counts toward the same cap. */
const routes = () => [
  `/api/orgs/${org}/jobs/${jobId}/events`,
  `/api/orgs/${org}/projects/${project}/files/events`,
  `/api/orgs/${org}/projects/${project}/runtime/logs`,
];

const cookieOf = (client: TestClient) => ({
  cookie: [...client.cookies].map(([k, v]) => `${k}=${v.value}`).join("; "),
});

async function open(client: TestClient, i: number): Promise<OpenSse> {
  const routeList = routes();
  const stream = await openSse(`${http}${routeList[i % routeList.length]}`, cookieOf(client));
  opened.push(stream);
  return stream;
}

/** Opens streams until one is refused or `max` are open; how many opened. */
async function fill(client: TestClient, max: number): Promise<OpenSse[]> {
  const streams: OpenSse[] = [];
  for (let i = 0; i < max; i++) {
    const s = await open(client, i);
    if (s.status !== 200) break;
    streams.push(s);
  }
  return streams;
}

const refusal = (s: OpenSse) => [s.status, (s.refusal as { error?: { code?: string } })?.error?.code];

describe("live streams per user", () => {
  it("the streams past the cap get 429 too_many_streams naming the limit; other users still stream", async () => {
    const viewer = await join("viewer");
    const mine = await fill(viewer.client, CAP);
    expect(mine.map((s) => s.status)).toEqual(Array(CAP).fill(200));
    for (let i = 0; i < 6; i++) {
      const extra = await open(viewer.client, i);
      expect(refusal(extra)).toEqual([429, "too_many_streams"]);
      expect((extra.refusal as { error: { details: unknown } }).error.details).toEqual({ limit: CAP });
    }
    // The cap is the viewer's alone: the owner's streams and the viewer's plain requests go on.
    const theirs = await open(owner.client, 0);
    expect(theirs.status).toBe(200);
    expect((await viewer.client.get(`/api/orgs/${org}/jobs/${jobId}/events`)).statusCode).toBe(200);
    // Another session of the same user is the same user.
    const again = kiln.client();
    expect(
      (await again.post("/api/auth/login", { email: viewer.user.email, password: viewer.password }))
        .statusCode,
    ).toBe(200);
    expect(refusal(await open(again, 0))).toEqual([429, "too_many_streams"]);
  });

  it("closing a stream frees its slot", async () => {
    const viewer = await join("viewer");
    const mine = await fill(viewer.client, CAP);
    expect(mine).toHaveLength(CAP);
    mine[0]!.close();
    mine[1]!.close();
    await Promise.all([mine[0]!.ended, mine[1]!.ended]);
    await expect.poll(async () => (await open(viewer.client, 0)).status).toBe(200);
    expect((await open(viewer.client, 1)).status).toBe(200);
    expect(refusal(await open(viewer.client, 2))).toEqual([429, "too_many_streams"]);
  });

  it("abrupt disconnects (TCP reset) free their slots too, over and over", async () => {
    const viewer = await join("viewer");
    for (let round = 0; round < 20; round++) {
      const mine = await fill(viewer.client, CAP);
      expect(mine, `round ${round}`).toHaveLength(CAP);
      for (const s of mine) s.reset();
      await Promise.all(mine.map((s) => s.ended));
      // The server sees the reset a moment later; the slots come back without any request from the client.
      await expect
        .poll(async () => {
          const probe = await open(viewer.client, round);
          probe.close();
          await probe.ended;
          return probe.status;
        })
        .toBe(200);
    }
    expect(await fill(viewer.client, CAP + 1)).toHaveLength(CAP);
  });

  it("a stream the server ends (its job over) frees its slot", async () => {
    const viewer = await join("viewer");
    const mine = await fill(viewer.client, CAP);
    expect(mine).toHaveLength(CAP);
    const onJob = mine.filter((_, i) => i % routes().length === 0);
    expect((await owner.client.post(`/api/orgs/${org}/jobs/${jobId}/cancel`)).statusCode).toBe(200);
    await Promise.all(onJob.map((s) => s.ended));
    expect(onJob[0]!.events.at(-1)?.data).toMatchObject({ event: { type: "state", state: "cancelled" } });
    // Their slots are free again, and only theirs.
    await expect.poll(async () => (await open(viewer.client, 1)).status).toBe(200);
    expect((await open(viewer.client, 2)).status).toBe(200);
    expect(refusal(await open(viewer.client, 1))).toEqual([429, "too_many_streams"]);
  });
});
