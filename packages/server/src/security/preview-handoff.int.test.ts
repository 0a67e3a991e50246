import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { previewGet } from "../testing/preview.ts";

/**
 * The preview hand-off (`<preview>/__kiln/auth?token=…&next=…`) attacked through the preview origin: `next`
 * spelled to leave the origin, and the link used a second time (it sits in the browser's history, a
 * screenshot, a proxy log) — on the same replica, on another one, and by many requests at once.
 */

let a: TestKiln;
let b: TestKiln;
let portA: number;
let portB: number;
let owner: SignedUp;
let org: string;
let project: string;

beforeAll(async () => {
  // Two replicas on one database with one secret, as behind a load balancer.
  const env = { KILN_SECRET_KEY: randomBytes(32).toString("base64") };
  a = await startTestKiln({ env });
  b = await startTestKiln({ env, database: a.database });
  await a.app.listen({ port: 0, host: "127.0.0.1" });
  await b.app.listen({ port: 0, host: "127.0.0.1" });
  portA = (a.app.server.address() as AddressInfo).port;
  portB = (b.app.server.address() as AddressInfo).port;
  owner = await a.signup();
  org = uniqueSlug("org");
  expect((await owner.client.post("/api/orgs", { name: "Handoff", slug: org })).statusCode).toBe(201);
  const created = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Site", template: "static" });
  expect(created.statusCode).toBe(201);
  project = created.json().slug;
}, 120_000);

afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

/** A fresh hand-off link from the studio's API: host and path+query on the preview origin. */
async function handoff(): Promise<{ host: string; path: string; origin: string }> {
  const res = await owner.client.post(`/api/orgs/${org}/projects/${project}/preview-session`);
  expect(res.statusCode).toBe(200);
  const url = new URL(res.json().url);
  return { host: url.host, path: url.pathname + url.search, origin: url.origin };
}

describe("preview hand-off: next", () => {
  // As they stand in the query string, i.e. encoded once more than the value the gateway reads.
  const hostile = [
    "/%09/evil.example/x", // a tab is dropped by the URL parser: `//evil.example/x`
    "%2F%09%2Fevil.example",
    "/%0A/evil.example", // a newline: invalid in a header (was a 500)
    "/%0D%0ASet-Cookie:%20x=1",
    "//evil.example",
    "%2F%2Fevil.example",
    "/%5Cevil.example", // `/\evil.example`: a backslash is a slash to the browser
    "/%5C%5Cevil.example",
    "%5C%5Cevil.example",
    "/%09%5Cevil.example",
    "https://evil.example/",
    "https%3A%2F%2Fevil.example%2F",
    "http:evil.example",
    "javascript:alert(1)",
    "/%00//evil.example",
    "///evil.example",
    "/.//evil.example",
  ];

  for (const next of hostile) {
    it(`keeps next=${next} on the preview origin`, async () => {
      const link = await handoff();
      const answer = await previewGet(portA, link.host, `${link.path}&next=${next}`);
      expect(answer.status, answer.body.slice(0, 200)).toBeLessThan(500);
      if (answer.status >= 300 && answer.status < 400) {
        const location = answer.headers.location!;
        // Resolved the way the browser resolves a Location header, against the hand-off URL.
        expect(new URL(location, `${link.origin}${link.path}`).origin).toBe(link.origin);
        // A path on this origin, whatever port the browser came in on; no `//host` or `/\host` form.
        expect(location).toMatch(/^\/(?![/\\])/);
      } else {
        expect(answer.status).toBeGreaterThanOrEqual(400);
      }
    });
  }

  it("still takes the browser to the page it asked for on the preview", async () => {
    const link = await handoff();
    const answer = await previewGet(
      portA,
      link.host,
      `${link.path}&next=${encodeURIComponent("/about?x=1#top")}`,
    );
    expect(answer.status).toBe(302);
    expect(answer.headers.location).toBe("/about?x=1#top");
  });
});

describe("preview hand-off: single use", () => {
  it("refuses a hand-off link the second time, on the same replica and on another", async () => {
    const link = await handoff();
    const first = await previewGet(portA, link.host, link.path);
    expect(first.status).toBe(302);
    expect(first.headers["set-cookie"]?.some((c) => c.startsWith("kiln_preview="))).toBe(true);

    const again = await previewGet(portA, link.host, link.path);
    expect(again.status).toBe(401);
    expect(again.headers["set-cookie"]).toBeUndefined();
    const elsewhere = await previewGet(portB, link.host, link.path);
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.headers["set-cookie"]).toBeUndefined();
  });

  it("lets exactly one of many simultaneous uses of one link through, across replicas", async () => {
    const deadline = Date.now() + 15_000;
    let rounds = 0;
    while (rounds < 400 && Date.now() < deadline) {
      const link = await handoff();
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) => previewGet(i % 2 ? portB : portA, link.host, link.path)),
      );
      expect(answers.map((x) => x.status).sort()).toEqual([302, 401, 401, 401, 401, 401, 401, 401]);
      rounds++;
    }
    expect(rounds).toBeGreaterThan(20);
  }, 60_000);
});
