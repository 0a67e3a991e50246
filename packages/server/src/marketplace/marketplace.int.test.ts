import { randomBytes } from "node:crypto";
import { lchown, mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectError } from "../testing/api.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { readZip } from "../testing/zip.ts";

/**
 * The marketplace (ADR 0040): publish a project as a template, who sees it (the own org; instance-wide only
 * once an instance admin approved it), install it in another org (the files, minus secrets and dependencies),
 * versions and "update available", and what a foreign org or hostile input gets. The first account made in
 * this file's database is the instance admin.
 */

let kiln: TestKiln;
let admin: SignedUp;
let alice: SignedUp;
let bob: SignedUp;
let aliceOrg: { id: string; slug: string };
let bobOrg: { id: string; slug: string };

beforeAll(async () => {
  kiln = await startTestKiln();
  admin = await kiln.signup({ name: "Operator" });
  alice = await kiln.signup({ name: "Alice" });
  bob = await kiln.signup({ name: "Bob" });
  aliceOrg = (await alice.client.post("/api/orgs", { name: "Alice Co", slug: uniqueSlug("alice") })).json();
  bobOrg = (await bob.client.post("/api/orgs", { name: "Bob Co", slug: uniqueSlug("bob") })).json();
}, 120_000);
afterAll(() => kiln?.stop());

async function newProject(name: string) {
  const res = await alice.client.post(`/api/orgs/${aliceOrg.slug}/projects`, { name, template: "static" });
  expect(res.statusCode, res.body).toBe(201);
  const { id, slug } = res.json() as { id: string; slug: string };
  return {
    id,
    slug,
    api: `/api/orgs/${aliceOrg.slug}/projects/${slug}`,
    dir: kiln.storage.projectDir(aliceOrg.id, id),
  };
}

async function write(api: string, file: string, content: string, who = alice): Promise<void> {
  const res = await who.client.put(`${api}/files/content`, { path: file, content, createParents: true });
  expect(res.statusCode, res.body).toBe(200);
}

/** Made as the project's own code would: owned by its sandbox user. */
async function plant(p: { id: string; dir: string }, name: string, make: (at: string) => Promise<void>) {
  const at = path.join(p.dir, name);
  await make(at);
  const uid = kiln.driver.workspaceOwner(p.id);
  if (uid) await lchown(at, uid.uid, uid.gid).catch(() => {});
}

async function publish(api: string, body: Record<string, unknown>) {
  const res = await alice.client.post(`${api}/marketplace`, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const listed = async (who: SignedUp, org: string, q = "") =>
  (
    (
      await who.client.get(`/api/orgs/${org}/marketplace${q ? `?q=${encodeURIComponent(q)}` : ""}`)
    ).json() as {
      id: string;
    }[]
  ).map((l) => l.id);

async function files(who: SignedUp, api: string): Promise<Map<string, string>> {
  const res = await who.client.get(`${api}/export`);
  expect(res.statusCode, res.body).toBe(200);
  const zip = await readZip(res.rawPayload);
  return new Map(
    [...zip].filter(([, e]) => e.type === "file").map(([name, e]) => [name, e.content.toString("utf8")]),
  );
}

describe("the marketplace", () => {
  it("publishes a project for its own org; installing elsewhere gives its files minus secrets and dependencies", async () => {
    const p = await newProject("Landing");
    await write(p.api, "index.html", "<h1>Shared landing</h1>");
    await write(p.api, "README.md", "# Landing\nA starter.");
    await write(p.api, "src/app.js", "console.log('app')");
    await write(p.api, ".env", "API_KEY=sk-live-secret");
    await write(p.api, ".env.local", "TOKEN=hush");
    await write(p.api, "config/.env.production", "DB=postgres://secret");
    await write(p.api, ".npmrc", "//registry.npmjs.org/:_authToken=npm_secret");
    await plant(p, "node_modules", (at) => mkdir(at));
    await plant(p, "node_modules/dep.js", (at) => writeFile(at, "dep"));
    await plant(p, "dist", (at) => mkdir(at));
    await plant(p, "dist/bundle.js", (at) => writeFile(at, "built"));
    // A hostile tenant's links out of its tree: never followed into the published files.
    await plant(p, "leak.txt", (at) => symlink("/etc/passwd", at));
    await plant(p, "escape", (at) => symlink("../../..", at));

    const listing = await publish(p.api, {
      name: "Landing page",
      description: "A one-page site",
      visibility: "org",
    });
    expect(listing).toMatchObject({ name: "Landing page", latestVersion: 1, status: "listed", mine: true });
    expect(listing.versions[0]).toMatchObject({ version: 1, readme: "# Landing\nA starter." });
    expect(listing.versions[0].manifest).toMatchObject({
      version: 1,
      template: "static",
      name: "Landing page",
    });
    expect(await listed(alice, aliceOrg.slug)).toContain(listing.id);
    expect(await listed(alice, aliceOrg.slug, "one-page")).toContain(listing.id);
    expect(await listed(alice, aliceOrg.slug, "nothing-like-it")).not.toContain(listing.id);
    // Org-only: nobody else sees it, reads it or installs it.
    expect(await listed(bob, bobOrg.slug)).not.toContain(listing.id);
    expectError(
      await bob.client.get(`/api/orgs/${bobOrg.slug}/marketplace/${listing.id}`),
      404,
      "listing_not_found",
    );
    expectError(
      await bob.client.post(`/api/orgs/${bobOrg.slug}/marketplace/${listing.id}/install`, { name: "Mine" }),
      404,
      "listing_not_found",
    );

    // Installed in its own org: the same files, without the secrets, dependencies and build output.
    const res = await alice.client.post(`/api/orgs/${aliceOrg.slug}/marketplace/${listing.id}/install`, {
      name: "Landing copy",
    });
    expect(res.statusCode, res.body).toBe(201);
    const installed = res.json();
    expect(installed.version).toBe(1);
    const source = await files(alice, p.api);
    const copy = await files(alice, `/api/orgs/${aliceOrg.slug}/projects/${installed.project.slug}`);
    const secrets = [".env", ".env.local", "config/.env.production", ".npmrc"];
    for (const secret of secrets) {
      expect(source.has(secret), secret).toBe(true);
      expect(copy.has(secret), secret).toBe(false);
    }
    const expected = new Map([...source].filter(([name]) => !secrets.includes(name)));
    expect(copy).toEqual(expected);
    expect(copy.get("index.html")).toBe("<h1>Shared landing</h1>");
    for (const name of copy.keys()) expect(name).not.toMatch(/^(node_modules|dist|leak\.txt|escape)(\/|$)/);
    for (const content of copy.values()) expect(content).not.toContain("root:x:0:0");
    // The new project's files are its own user's, never root's (the trust rule).
    const owner = kiln.driver.workspaceOwner(installed.project.id);
    if (owner) {
      const { stat } = await import("node:fs/promises");
      const dir = kiln.storage.projectDir(aliceOrg.id, installed.project.id);
      expect((await stat(path.join(dir, "src/app.js"))).uid).toBe(owner.uid);
      expect((await stat(path.join(dir, "src"))).uid).toBe(owner.uid);
    }
  });

  it("shows an instance listing to other orgs only once an instance admin approved it; installs it there", async () => {
    const p = await newProject("Shop");
    await write(p.api, "index.html", "<h1>Shop v1</h1>");
    await write(p.api, ".env", "STRIPE=sk_live_1");
    const listing = await publish(p.api, { name: "Shop", description: "A shop", visibility: "instance" });
    expect(listing.status).toBe("pending");
    expect(await listed(alice, aliceOrg.slug)).toContain(listing.id);
    expect(await listed(bob, bobOrg.slug)).not.toContain(listing.id);
    expectError(
      await bob.client.post(`/api/orgs/${bobOrg.slug}/marketplace/${listing.id}/install`, { name: "Shop" }),
      404,
      "listing_not_found",
    );
    // Only the instance admin approves.
    expectError(await bob.client.get("/api/admin/marketplace"), 403, "not_instance_admin");
    expectError(
      await alice.client.post(`/api/admin/marketplace/${listing.id}/approve`),
      403,
      "not_instance_admin",
    );
    const pending = (await admin.client.get("/api/admin/marketplace")).json() as { id: string }[];
    expect(pending.map((l) => l.id)).toContain(listing.id);
    const approved = await admin.client.post(`/api/admin/marketplace/${listing.id}/approve`);
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().status).toBe("listed");
    expect(await listed(bob, bobOrg.slug)).toContain(listing.id);

    const res = await bob.client.post(`/api/orgs/${bobOrg.slug}/marketplace/${listing.id}/install`, {
      name: "Bob shop",
    });
    expect(res.statusCode, res.body).toBe(201);
    const installed = res.json();
    const api = `/api/orgs/${bobOrg.slug}/projects/${installed.project.slug}`;
    const copy = await files(bob, api);
    expect(copy.get("index.html")).toBe("<h1>Shop v1</h1>");
    expect(copy.has(".env")).toBe(false);
    const detail = (await bob.client.get(`/api/orgs/${bobOrg.slug}/marketplace/${listing.id}`)).json();
    expect(detail).toMatchObject({ installs: 1, mine: false, publisher: { orgName: "Alice Co" } });

    // Up to date, then v2 is published: the installed project reports an update.
    expect((await bob.client.get(`${api}/marketplace`)).json().installedFrom).toMatchObject({
      listingId: listing.id,
      version: 1,
      latestVersion: 1,
      updateAvailable: false,
    });
    await write(p.api, "index.html", "<h1>Shop v2</h1>");
    const v2 = await publish(p.api, { name: "Shop", description: "A shop, better", visibility: "instance" });
    expect(v2.latestVersion).toBe(2);
    expect(v2.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);
    expect(v2.status).toBe("listed");
    expect((await bob.client.get(`${api}/marketplace`)).json().installedFrom).toMatchObject({
      version: 1,
      latestVersion: 2,
      updateAvailable: true,
    });
    expect((await alice.client.get(`${p.api}/marketplace`)).json()).toMatchObject({
      installedFrom: null,
      published: { id: listing.id, latestVersion: 2 },
    });
    // A new install gets v2.
    const again = await bob.client.post(`/api/orgs/${bobOrg.slug}/marketplace/${listing.id}/install`, {
      name: "Bob shop 2",
    });
    expect(again.json().version).toBe(2);
    expect(
      (await files(bob, `/api/orgs/${bobOrg.slug}/projects/${again.json().project.slug}`)).get("index.html"),
    ).toBe("<h1>Shop v2</h1>");
  });

  it("refuses a foreign org's project, garbage and oversized input with 4xx codes", async () => {
    const p = await newProject("Private");
    // Bob cannot publish Alice's project, by id or slug, through his org or hers.
    expectError(
      await bob.client.post(`/api/orgs/${bobOrg.slug}/projects/${p.id}/marketplace`, { name: "Stolen" }),
      404,
      "project_not_found",
    );
    expect((await bob.client.post(`${p.api}/marketplace`, { name: "Stolen" })).statusCode).toBe(404);
    // Hostile bodies and ids.
    const bad = [
      {},
      { name: "" },
      { name: "x".repeat(101) },
      { name: "ok", visibility: "everyone" },
      { name: "ok", description: "d".repeat(2001) },
      { name: "ok", extra: 1 },
      { name: "a\u0000b" },
      { name: "lone \ud800 surrogate" },
      { name: ["array"] },
    ];
    for (const body of bad) {
      const res = await alice.client.post(`${p.api}/marketplace`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await alice.client.get(`/api/orgs/${aliceOrg.slug}/marketplace/not-a-uuid`)).statusCode).toBe(
      400,
    );
    expect(
      (await alice.client.get(`/api/orgs/${aliceOrg.slug}/marketplace?q=${"q".repeat(101)}`)).statusCode,
    ).toBe(400);
    expectError(
      await alice.client.get(`/api/orgs/${aliceOrg.slug}/marketplace/00000000-0000-4000-8000-000000000000`),
      404,
      "listing_not_found",
    );
    expectError(
      await admin.client.post("/api/admin/marketplace/00000000-0000-4000-8000-000000000000/approve"),
      404,
      "listing_not_found",
    );
    // A project too large to publish: 413 before anything is stored.
    await plant(p, "big.bin", (at) => writeFile(at, randomBytes(21 * 1024 * 1024)));
    expectError(await alice.client.post(`${p.api}/marketplace`, { name: "Big" }), 413, "payload_too_large");
    expect((await alice.client.get(`${p.api}/marketplace`)).json().published).toBeNull();
  });
});
