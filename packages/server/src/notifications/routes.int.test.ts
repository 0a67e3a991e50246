import http from "node:http";
import type { AddressInfo } from "node:net";
import { ACCESS_COOKIE, type Notification } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/**
 * The notification routes against hostile callers: another person's notification id answers like a missing
 * one (and stays unread), malformed ids, queries and preference bodies are 400s, no session is a 401, JSON
 * on the stream is a 406, and the stream holds one of the caller's stream slots (past the cap: 429).
 */

let kiln: TestKiln;
let httpBase: string;
let owner: SignedUp;
let bob: SignedUp;
let carol: SignedUp;

beforeAll(async () => {
  kiln = await startTestKiln({ env: { KILN_MAX_STREAMS_PER_USER: "2" } });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  httpBase = `http://127.0.0.1:${(kiln.app.server.address() as AddressInfo).port}`;
  owner = await kiln.signup({ name: "Alice Owner" });
  const org = uniqueSlug("hostile");
  expect((await owner.client.post("/api/orgs", { name: "Hostile", slug: org })).statusCode).toBe(201);
  bob = await kiln.signup({ name: "Bob Other" });
  carol = await kiln.signup({ name: "Carol Streams" });
  // Bob joining tells Alice, the owner: she has a notification of her own.
  const invited = await owner.client.post(`/api/orgs/${org}/invitations`, {
    email: bob.user.email,
    role: "developer",
  });
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await bob.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
});

const cookieOf = (client: TestClient) => `${ACCESS_COOKIE}=${client.cookies.get(ACCESS_COOKIE)!.value}`;

async function inbox(who: SignedUp): Promise<{ items: Notification[]; unread: number }> {
  const res = await who.client.get("/api/notifications");
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

describe("notification routes, hostile callers", () => {
  it("answers another person's notification as missing, and garbage with 400", async () => {
    await expect.poll(async () => (await inbox(owner)).items.length).toBe(1);
    const alices = (await inbox(owner)).items[0]!;
    const foreign = await bob.client.post(`/api/notifications/${alices.id}/read`);
    expect([foreign.statusCode, foreign.json().error.code]).toEqual([404, "notification_not_found"]);
    expect((await inbox(owner)).items[0]!.readAt).toBeNull();
    for (const bad of ["not-a-uuid", "..%2F..%2Fetc", "1' OR '1'='1"]) {
      const res = await bob.client.post(`/api/notifications/${bad}/read`);
      expect(res.statusCode, bad).toBe(400);
    }
    expect((await bob.client.get("/api/notifications?unread=maybe")).statusCode).toBe(400);
    for (const body of [
      { preferences: [{ kind: "everything", channel: "email", enabled: false }] },
      { preferences: [{ kind: "mention", channel: "sms", enabled: false }] },
      { preferences: [] },
      {
        preferences: Array.from({ length: 500 }, () => ({
          kind: "mention",
          channel: "email",
          enabled: true,
        })),
      },
      { preferences: [{ kind: "mention", channel: "email", enabled: "yes" }] },
    ]) {
      const res = await bob.client.put("/api/notifications/preferences", body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
    const anonymous = await kiln.client().get("/api/notifications");
    expect(anonymous.statusCode).toBe(401);
    const notStream = await bob.client.get("/api/notifications/stream");
    expect(notStream.statusCode).toBe(406);
  });

  it("holds a stream slot per open stream: past the per-user cap it is a 429", async () => {
    const open = () =>
      new Promise<{ status: number; close: () => void }>((resolve, reject) => {
        const req = http.get(
          `${httpBase}/api/notifications/stream`,
          { headers: { accept: "text/event-stream", cookie: cookieOf(carol.client) } },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, close: () => req.destroy() });
          },
        );
        req.on("error", reject);
      });
    const held = [await open(), await open()];
    expect(held.map((h) => h.status)).toEqual([200, 200]);
    const refused = await open();
    refused.close();
    expect(refused.status).toBe(429);
    for (const h of held) h.close();
    // Closing gives the slots back.
    await expect
      .poll(async () => {
        const again = await open();
        again.close();
        return again.status;
      })
      .toBe(200);
  });
});
