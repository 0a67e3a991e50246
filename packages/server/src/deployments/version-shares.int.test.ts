import type { AddressInfo } from "node:net";
import type { CreatedShareLink, Deployment, ShareLink } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { type PreviewAnswer, previewGet } from "../testing/preview.ts";

/**
 * "Share this version": a link to one deployment serves exactly it (also once another is current) at the
 * deployment's own host, to whoever holds the link, until it is revoked or expires; and to nobody else.
 */

let kiln: TestKiln;
let owner: SignedUp;
let rival: SignedUp;
let org: { id: string; slug: string };
let port: number;
let site: Awaited<ReturnType<typeof newProject>>;
let first: Deployment;
let second: Deployment;

beforeAll(async () => {
  kiln = await startTestKiln();
  owner = await kiln.signup();
  rival = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Ship", slug: uniqueSlug("ship") })).json();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
  site = await newProject(owner, org.slug);
  await write(site.api, "<h1>Version one</h1>");
  first = await publish(owner, site.api);
  await write(site.api, "<h1>Version two</h1>");
  second = await publish(owner, site.api);
}, 120_000);
afterAll(() => kiln?.stop());

async function newProject(user: SignedUp, orgSlug: string) {
  const res = await user.client.post(`/api/orgs/${orgSlug}/projects`, { name: "Site", template: "static" });
  expect(res.statusCode, res.body).toBe(201);
  const { slug } = res.json() as { slug: string };
  return { slug, api: `/api/orgs/${orgSlug}/projects/${slug}`, host: `${slug}--${orgSlug}.apps.localhost` };
}

async function write(api: string, html: string): Promise<void> {
  const res = await owner.client.put(`${api}/files/content`, { path: "index.html", content: html });
  expect(res.statusCode, res.body).toBe(200);
}

async function publish(user: SignedUp, api: string): Promise<Deployment> {
  const res = await user.client.post(`${api}/deployments`);
  expect(res.statusCode, res.body).toBe(202);
  const id = (res.json() as Deployment).id;
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    const now = (await user.client.get(`${api}/deployments/${id}`)).json() as Deployment;
    if (now.status !== "building") return now;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the build did not finish");
}

async function share(deployment: Deployment, body: object = {}): Promise<CreatedShareLink> {
  const res = await owner.client.post(`${site.api}/deployments/${deployment.id}/share-links`, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as CreatedShareLink;
}

/** Opens a link as a browser would: the landing sets a cookie, then `/` is asked for with it. */
async function openLink(
  url: string,
): Promise<{ landing: PreviewAnswer; cookie?: string; page?: PreviewAnswer }> {
  const u = new URL(url);
  const landing = await previewGet(port, u.host, u.pathname);
  const cookie = landing.headers["set-cookie"]?.[0]?.split(";")[0];
  if (!cookie) return { landing };
  return { landing, cookie, page: await previewGet(port, u.host, "/", cookie) };
}

describe("a deployment's share link", () => {
  it("serves that deployment even when another is current, at the deployment's own host", async () => {
    expect([first.status, second.status, second.current]).toEqual(["ready", "ready", true]);
    const made = await share(first, { label: "for review", expiresInHours: 24 });
    const url = new URL(made.url);
    expect(url.host).toBe(`${site.slug}--${org.slug}--d1.apps.localhost:4000`);
    expect(url.pathname).toMatch(/^\/__kiln\/share\/[\w-]{43}$/);
    expect(made.link).toMatchObject({ label: "for review", revokedAt: null });

    const { landing, cookie, page } = await openLink(made.url);
    expect([landing.status, landing.headers.location]).toEqual([302, "/"]);
    expect(landing.headers["set-cookie"]?.[0]).toMatch(
      /^kiln_version_share=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax/,
    );
    expect(page?.status).toBe(200);
    expect(page?.body).toContain("Version one");
    expect(page?.headers.vary).toContain("cookie");
    // The public address still serves the current deployment.
    expect((await previewGet(port, site.host, "/")).body).toContain("Version two");
    // Its cookie opens only this deployment: not the next one's host.
    const other = await previewGet(port, `${site.slug}--${org.slug}--d2.apps.localhost`, "/", cookie);
    expect(other.status).toBe(401);

    const listed = (
      await owner.client.get(`${site.api}/deployments/${first.id}/share-links`)
    ).json() as ShareLink[];
    expect(listed.map((l) => [l.id, l.label, l.lastUsedAt !== null])).toEqual([
      [made.link.id, "for review", true],
    ]);
    const secondLinks = await owner.client.get(`${site.api}/deployments/${second.id}/share-links`);
    expect(secondLinks.json()).toEqual([]);
  });

  it("is refused without a link, with a wrong, foreign or malformed one", async () => {
    const host = `${site.slug}--${org.slug}--d1.apps.localhost`;
    const bare = await previewGet(port, host, "/");
    expect(bare.status).toBe(401);
    expect(bare.body).toContain("This link does not open anything");
    expect(bare.body).not.toContain("Version one");
    for (const path of [
      "/__kiln/share/",
      `/__kiln/share/${"A".repeat(43)}`,
      "/__kiln/share/../../etc/passwd",
      `/__kiln/share/${"x".repeat(5000)}`,
    ])
      expect((await previewGet(port, host, path)).status, path).toBe(401);
    expect((await previewGet(port, host, "/", `kiln_version_share=${"B".repeat(43)}`)).status).toBe(401);
    expect((await previewGet(port, `${site.slug}--${org.slug}--d9.apps.localhost`, "/")).status).toBe(401);
    expect((await previewGet(port, `${site.slug}--nobody-here--d1.apps.localhost`, "/")).status).toBe(401);

    // Another org's link to its own deployment opens nothing here, on the same number.
    const rivalOrg = (
      await rival.client.post("/api/orgs", { name: "Rival", slug: uniqueSlug("rival") })
    ).json();
    const theirs = await newProject(rival, rivalOrg.slug);
    const put = await rival.client.put(`${theirs.api}/files/content`, {
      path: "index.html",
      content: "<h1>Theirs</h1>",
    });
    expect(put.statusCode).toBe(200);
    const theirDeployment = await publish(rival, theirs.api);
    const res = await rival.client.post(`${theirs.api}/deployments/${theirDeployment.id}/share-links`, {});
    const token = new URL((res.json() as CreatedShareLink).url).pathname.split("/").at(-1)!;
    expect((await previewGet(port, host, `/__kiln/share/${token}`)).status).toBe(401);
    expect((await previewGet(port, host, "/", `kiln_version_share=${token}`)).status).toBe(401);
    // Nor can the rival make links to this org's deployments, by its own project's path or ours.
    const foreign = await rival.client.post(`${theirs.api}/deployments/${first.id}/share-links`, {});
    expect([foreign.statusCode, foreign.json().error.code]).toEqual([404, "deployment_not_found"]);
    expect((await rival.client.post(`${site.api}/deployments/${first.id}/share-links`, {})).statusCode).toBe(
      404,
    );
  });

  it("stops working at once when revoked, and once expired", async () => {
    const made = await share(first);
    const { cookie, page } = await openLink(made.url);
    expect(page?.body).toContain("Version one");
    const revoked = await owner.client.delete(
      `${site.api}/deployments/${first.id}/share-links/${made.link.id}`,
    );
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revokedAt).not.toBeNull();
    const host = new URL(made.url).host;
    expect((await previewGet(port, host, "/", cookie)).status).toBe(401);
    expect((await openLink(made.url)).landing.status).toBe(401);
    // Revoking again is no error; another deployment's path does not find it.
    expect(
      (await owner.client.delete(`${site.api}/deployments/${first.id}/share-links/${made.link.id}`))
        .statusCode,
    ).toBe(200);
    const wrong = await owner.client.delete(
      `${site.api}/deployments/${second.id}/share-links/${made.link.id}`,
    );
    expect([wrong.statusCode, wrong.json().error.code]).toEqual([404, "share_link_not_found"]);

    const expiring = await share(first, { expiresInHours: 1 });
    const [row] = await query<{ schema_name: string }>(
      kiln.database.db,
      sql`SELECT schema_name FROM orgs WHERE id = ${org.id}::uuid`,
    );
    await kiln.database.tenant(row!.schema_name, (tx) =>
      tx.execute(
        sql`UPDATE deployment_share_links SET expires_at = now() - interval '1 second' WHERE id = ${expiring.link.id}::uuid`,
      ),
    );
    expect((await openLink(expiring.url)).landing.status).toBe(401);
  });

  it("is made only for a built deployment; bad bodies are 400", async () => {
    const failing = await newProject(owner, org.slug);
    const del = await owner.client.delete(`${failing.api}/files?path=index.html`);
    expect(del.statusCode, del.body).toBeLessThan(300);
    const failed = await publish(owner, failing.api);
    expect(failed.status).toBe("failed");
    const res = await owner.client.post(`${failing.api}/deployments/${failed.id}/share-links`, {});
    expect([res.statusCode, res.json().error.code]).toEqual([409, "deployment_not_ready"]);
    for (const body of [
      { label: 5 },
      { expiresInHours: 0 },
      { expiresInHours: 1e9 },
      { extra: true },
      { label: "x".repeat(81) },
    ]) {
      const bad = await owner.client.post(`${site.api}/deployments/${first.id}/share-links`, body);
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
    }
    const missing = await owner.client.post(
      `${site.api}/deployments/00000000-0000-4000-8000-000000000000/share-links`,
      {},
    );
    expect([missing.statusCode, missing.json().error.code]).toEqual([404, "deployment_not_found"]);
  });
});
