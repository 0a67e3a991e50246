import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { type PreviewAnswer, previewGet } from "../testing/preview.ts";

/**
 * Share links of a private preview, attacked from outside: what a link opens, for how long, and what its
 * holder still cannot do (report errors to the agent, open another project, outlive a revocation).
 */

let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let org: string;

/** As a browser asks for a page of the preview (or posts a report, with a body). */
function get(host: string, path: string, cookie?: string, method = "GET", body?: string) {
  return previewGet(port, host, path, cookie, {
    method,
    headers: {
      accept: "text/html",
      ...(body ? { "content-type": "application/json", origin: `http://${host}` } : {}),
    },
    ...(body ? { body } : {}),
  });
}

beforeAll(async () => {
  kiln = await startTestKiln();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
  owner = await kiln.signup();
  org = uniqueSlug("share");
  expect((await owner.client.post("/api/orgs", { name: "Share", slug: org })).statusCode).toBe(201);
}, 120_000);
afterAll(() => kiln?.stop());

async function newProject() {
  const res = await owner.client.post(`/api/orgs/${org}/projects`, { name: "Shared", template: "static" });
  expect(res.statusCode, res.body).toBe(201);
  const slug = res.json().slug as string;
  return { slug, id: res.json().id as string, api: `/api/orgs/${org}/projects/${slug}/share-links` };
}

/** Follows a share link like a browser: the landing sets a cookie on the preview's origin. */
async function open(url: string): Promise<{ host: string; cookie: string | undefined; status: number }> {
  const link = new URL(url);
  const landing = await get(`${link.hostname}:${port}`, link.pathname);
  const cookie = landing.headers["set-cookie"]?.[0]?.split(";")[0];
  return { host: `${link.hostname}:${port}`, cookie, status: landing.status };
}

async function until(host: string, cookie: string | undefined, status: number): Promise<PreviewAnswer> {
  let last: PreviewAnswer | undefined;
  for (const end = Date.now() + 20_000; Date.now() < end; ) {
    last = await get(host, "/", cookie);
    if (last.status === status) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`never ${status}; last ${last?.status}: ${last?.body.slice(0, 300)}`);
}

describe("share links of a private preview", () => {
  it("open the preview for their holder, without the studio's error reporter, until revoked", async () => {
    const p = await newProject();
    const made = await owner.client.post(p.api, { label: "for Sam" });
    expect(made.statusCode, made.body).toBe(201);
    const { link, url } = made.json();
    expect(link).toMatchObject({ label: "for Sam", expiresAt: null, revokedAt: null });
    expect(url).toMatch(
      new RegExp(`^http://${p.slug}--${org}\\.localhost:4000/__kiln/share/[A-Za-z0-9_-]{43}$`),
    );

    // Without it, the preview is private.
    const host = `${p.slug}--${org}.localhost:${port}`;
    expect((await get(host, "/")).status).toBe(401);
    const visit = await open(url);
    expect([visit.status, visit.cookie]).toEqual([302, expect.stringMatching(/^kiln_preview_share=/)]);
    const page = await until(host, visit.cookie, 200);
    expect(page.body).toContain("Hello, static web");
    expect(page.body).not.toContain('data-kiln="errors"');
    // Its holder cannot put text in front of the agent.
    const report = await get(host, "/__kiln/errors", visit.cookie, "POST", JSON.stringify({ errors: [] }));
    expect(report.status).toBe(403);
    // The list never shows the link again.
    const listed = (await owner.client.get(p.api)).json();
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(url.split("/").at(-1));

    const revoked = await owner.client.delete(`${p.api}/${link.id}`);
    expect([revoked.statusCode, revoked.json().revokedAt]).toEqual([200, expect.any(String)]);
    expect((await get(host, "/", visit.cookie)).status).toBe(401);
    expect((await open(url)).status).toBe(401);
  });

  it("stop at their expiry, and open no other project", async () => {
    const p = await newProject();
    const other = await newProject();
    const expiring = (await owner.client.post(p.api, { expiresInHours: 1 })).json();
    expect(expiring.link.expiresAt).not.toBeNull();
    const schema = (await kiln.services.orgs.access(owner.user.id, org)).org.schemaName;
    await kiln.database.tenant(schema, (tx) =>
      tx.execute(
        sql`UPDATE share_links SET expires_at = now() - interval '1 second' WHERE id = ${expiring.link.id}`,
      ),
    );
    expect((await open(expiring.url)).status).toBe(401);

    const valid = (await owner.client.post(p.api, {})).json();
    const token = new URL(valid.url).pathname.split("/").at(-1)!;
    const otherHost = `${other.slug}--${org}.localhost:${port}`;
    expect((await get(otherHost, `/__kiln/share/${token}`)).status).toBe(401);
    expect((await get(otherHost, "/", `kiln_preview_share=${token}`)).status).toBe(401);
    for (const garbage of ["x", "../../etc", "%00", "a".repeat(43), "a".repeat(5000)])
      expect((await get(otherHost, `/__kiln/share/${garbage}`)).status, garbage).toBe(401);
  });

  it("refuse bad input: an expiry out of range, an unknown id", async () => {
    const p = await newProject();
    const tooLong = await owner.client.post(p.api, { expiresInHours: 24 * 366 });
    expect(tooLong.statusCode).toBe(400);
    const unknown = await owner.client.delete(`${p.api}/00000000-0000-4000-8000-000000000000`);
    expect([unknown.statusCode, unknown.json().error.code]).toEqual([404, "share_link_not_found"]);
  });
});
