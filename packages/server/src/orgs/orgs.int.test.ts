import { existsSync } from "node:fs";
import path from "node:path";
import type { Role } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

let kiln: TestKiln;
let owner: SignedUp;
beforeAll(async () => {
  // One owner makes an org per case here; the cap on orgs per user is tested in security/limits.
  kiln = await startTestKiln({ env: { KILN_MAX_ORGS_PER_USER: "0" } });
  owner = await kiln.signup();
});
afterAll(() => kiln?.stop());

describe("creating an org", () => {
  it("makes the caller its owner and gives it its own schema", async () => {
    const slug = uniqueSlug("team");
    const res = await owner.client.post("/api/orgs", { name: "  The Team  ", slug });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ slug, name: "The Team", personal: false, role: "owner" });
    const schema = `org_${slug.replaceAll("-", "_")}`;
    expect(await schemaExists(schema)).toBe(true);
    expect(await orgRow(slug)).toMatchObject({ schema_name: schema, id: res.json().id });
    expect(await roleOf(res.json().id, owner.user.id)).toBe("owner");
  });

  it("accepts a slug of 39 characters, the longest", async () => {
    const slug = `l${uniqueSlug("x").padEnd(38, "0")}`;
    expect(slug).toHaveLength(39);
    const res = await owner.client.post("/api/orgs", { name: "Long", slug });
    expect(res.statusCode).toBe(201);
    expect(await schemaExists(`org_${slug.replaceAll("-", "_")}`)).toBe(true);
  });

  it.each(["api", "admin", "public", "information-schema"])(
    "refuses the reserved slug %s: 400 slug_reserved",
    async (slug) => {
      const res = await owner.client.post("/api/orgs", { name: "Reserved", slug });
      expect([res.statusCode, errorCode(res)]).toEqual([400, "slug_reserved"]);
      expect(await orgRow(slug)).toBeUndefined();
    },
  );

  it.each([
    "a",
    "-x",
    "x--y",
    "X",
    "ab-",
    "1team",
    "my_team",
    "",
    `a${"b".repeat(39)}`,
    "robert'); drop table users;--",
  ])("refuses the malformed slug %j: 400 validation_failed", async (slug) => {
    const res = await owner.client.post("/api/orgs", { name: "Bad", slug });
    expect([res.statusCode, errorCode(res)]).toEqual([400, "validation_failed"]);
    expect(await orgRow(slug)).toBeUndefined();
  });

  it("leaves the database alone when a slug carries SQL", async () => {
    await owner.client.post("/api/orgs", { name: "Bobby", slug: "robert'); drop table users;--" });
    const [users] = await query<{ n: number }>(kiln.database.db, sql`SELECT count(*)::int AS n FROM users`);
    expect(users!.n).toBeGreaterThan(0);
    expect((await owner.client.get("/api/auth/me")).statusCode).toBe(200);
  });

  it("refuses a slug that is taken, by anyone: 409 slug_taken", async () => {
    const slug = uniqueSlug("dup");
    const first = await owner.client.post("/api/orgs", { name: "First", slug });
    expect(first.statusCode).toBe(201);
    const other = await kiln.signup();
    for (const client of [owner.client, other.client]) {
      const res = await client.post("/api/orgs", { name: "Second", slug });
      expect([res.statusCode, errorCode(res)]).toEqual([409, "slug_taken"]);
    }
    expect(await orgRow(slug)).toMatchObject({ name: "First" });
    expect(await roleOf(first.json().id, other.user.id)).toBeUndefined();
  });

  it("refuses bad bodies: 400 validation_failed", async () => {
    for (const body of [
      { name: "", slug: uniqueSlug() },
      { name: "   ", slug: uniqueSlug() },
      { name: "x".repeat(101), slug: uniqueSlug() },
      { slug: uniqueSlug() },
      { name: "No slug" },
      { name: "Extra", slug: uniqueSlug(), personal: true },
    ]) {
      const res = await owner.client.post("/api/orgs", body);
      expect([res.statusCode, errorCode(res)], JSON.stringify(body)).toEqual([400, "validation_failed"]);
    }
  });

  it("needs a signed-in caller", async () => {
    const res = await kiln.client().post("/api/orgs", { name: "Anon", slug: uniqueSlug() });
    expect([res.statusCode, errorCode(res)]).toEqual([401, "unauthenticated"]);
  });
});

describe("listing my orgs", () => {
  it("lists the orgs I belong to, personal first, then by name, with my role", async () => {
    const me = await kiln.signup({ name: "Zed" });
    const stranger = await kiln.signup();
    const beta = (await me.client.post("/api/orgs", { name: "Beta", slug: uniqueSlug("beta") })).json();
    const alpha = (await me.client.post("/api/orgs", { name: "Alpha", slug: uniqueSlug("alpha") })).json();
    const theirs = (
      await stranger.client.post("/api/orgs", { name: "Aardvark", slug: uniqueSlug("aa") })
    ).json();

    const list = (await me.client.get("/api/orgs")).json();
    expect(list.map((o: { id: string }) => o.id)).toEqual([me.personalOrg.orgId, alpha.id, beta.id]);
    expect(list[0]).toMatchObject({ personal: true, role: "owner", name: "Zed's workspace" });
    expect(list.map((o: { id: string }) => o.id)).not.toContain(theirs.id);

    await join(stranger.client, theirs.slug, me, "viewer");
    const after = (await me.client.get("/api/orgs")).json();
    expect(after.map((o: { id: string; role: Role }) => [o.id, o.role])).toEqual([
      [me.personalOrg.orgId, "owner"],
      [theirs.id, "viewer"],
      [alpha.id, "owner"],
      [beta.id, "owner"],
    ]);
  });
});

describe("getting an org", () => {
  it("finds it by id, upper-case id and slug", async () => {
    const slug = uniqueSlug("get");
    const created = (await owner.client.post("/api/orgs", { name: "Gettable", slug })).json();
    for (const ref of [created.id, created.id.toUpperCase(), slug]) {
      const res = await owner.client.get(`/api/orgs/${ref}`);
      expect([res.statusCode, res.json()]).toEqual([200, created]);
    }
  });

  it("answers 404 org_not_found for what does not exist, and 400 for a ref too long to be one", async () => {
    for (const ref of ["no-such-org", "00000000-0000-4000-8000-000000000000"]) {
      const res = await owner.client.get(`/api/orgs/${ref}`);
      expect([res.statusCode, errorCode(res)], ref).toEqual([404, "org_not_found"]);
    }
    const long = await owner.client.get(`/api/orgs/${"x".repeat(65)}`);
    expect([long.statusCode, errorCode(long)]).toEqual([400, "validation_failed"]);
  });
});

describe("renaming an org", () => {
  it("changes the name only, leaving slug and schema alone", async () => {
    const slug = uniqueSlug("name");
    const org = (await owner.client.post("/api/orgs", { name: "Before", slug })).json();
    const res = await owner.client.patch(`/api/orgs/${org.id}`, { name: "After" });
    expect([res.statusCode, res.json()]).toEqual([200, { ...org, name: "After" }]);
    expect(await orgRow(slug)).toMatchObject({
      name: "After",
      schema_name: `org_${slug.replaceAll("-", "_")}`,
    });
    expect((await owner.client.get(`/api/orgs/${slug}`)).json().name).toBe("After");
  });

  it("renames the schema with the slug; projects and their files stay", async () => {
    const oldSlug = uniqueSlug("old");
    const newSlug = uniqueSlug("new");
    const org = (await owner.client.post("/api/orgs", { name: "Moving", slug: oldSlug })).json();
    const project = (await owner.client.post(`/api/orgs/${oldSlug}/projects`, { name: "Keeper" })).json();

    const res = await owner.client.patch(`/api/orgs/${oldSlug}`, { slug: newSlug });
    expect([res.statusCode, res.json()]).toEqual([200, { ...org, slug: newSlug }]);

    const oldSchema = `org_${oldSlug.replaceAll("-", "_")}`;
    const newSchema = `org_${newSlug.replaceAll("-", "_")}`;
    expect(await schemaExists(oldSchema)).toBe(false);
    expect(await schemaExists(newSchema)).toBe(true);
    expect(await orgRow(newSlug)).toMatchObject({ id: org.id, schema_name: newSchema });
    const stored = await query<{ id: string }>(
      kiln.database.db,
      sql.raw(`SELECT id FROM "${newSchema}".projects`),
    );
    expect(stored.map((p) => p.id)).toEqual([project.id]);

    const projects = (await owner.client.get(`/api/orgs/${newSlug}/projects`)).json();
    expect(projects.map((p: { id: string }) => p.id)).toEqual([project.id]);
    expect(existsSync(kiln.storage.projectDir(org.id, project.id))).toBe(true);
    const stale = await owner.client.get(`/api/orgs/${oldSlug}`);
    expect([stale.statusCode, errorCode(stale)]).toEqual([404, "org_not_found"]);
    // The freed slug is free again.
    expect((await owner.client.post("/api/orgs", { name: "Reuse", slug: oldSlug })).statusCode).toBe(201);
  });

  it("keeps the slug when asked for the same one", async () => {
    const slug = uniqueSlug("same");
    const org = (await owner.client.post("/api/orgs", { name: "Same", slug })).json();
    const res = await owner.client.patch(`/api/orgs/${slug}`, { slug });
    expect([res.statusCode, res.json().slug]).toEqual([200, slug]);
    expect(await orgRow(slug)).toMatchObject({ id: org.id });
  });

  it("refuses reserved, taken and malformed slugs, renaming nothing", async () => {
    const slug = uniqueSlug("keep");
    const taken = uniqueSlug("taken");
    await owner.client.post("/api/orgs", { name: "Keep", slug });
    await (await kiln.signup()).client.post("/api/orgs", { name: "Other", slug: taken });
    const cases: Array<[unknown, number, string]> = [
      [{ slug: "api" }, 400, "slug_reserved"],
      [{ slug: taken }, 409, "slug_taken"],
      [{ slug: "Bad Slug" }, 400, "validation_failed"],
      [{ slug: "x--y" }, 400, "validation_failed"],
      [{}, 400, "validation_failed"],
      [{ name: "" }, 400, "validation_failed"],
    ];
    for (const [body, status, code] of cases) {
      const res = await owner.client.patch(`/api/orgs/${slug}`, body);
      expect([res.statusCode, errorCode(res)], JSON.stringify(body)).toEqual([status, code]);
    }
    expect(await orgRow(slug)).toMatchObject({
      name: "Keep",
      schema_name: `org_${slug.replaceAll("-", "_")}`,
    });
    expect(await schemaExists(`org_${slug.replaceAll("-", "_")}`)).toBe(true);
    expect(await schemaExists(`org_${taken.replaceAll("-", "_")}`)).toBe(true);
    expect(await orgRow(taken)).toMatchObject({ name: "Other" });
  });

  it("is for admins: an admin may, a developer may not", async () => {
    const slug = uniqueSlug("adm");
    await owner.client.post("/api/orgs", { name: "Ranked", slug });
    const admin = await join(owner.client, slug, await kiln.signup(), "admin");
    const dev = await join(owner.client, slug, await kiln.signup(), "developer");
    const denied = await dev.client.patch(`/api/orgs/${slug}`, { name: "Dev was here" });
    expect([denied.statusCode, errorCode(denied)]).toEqual([403, "forbidden"]);
    const allowed = await admin.client.patch(`/api/orgs/${slug}`, { name: "Admin was here" });
    expect([allowed.statusCode, allowed.json().role]).toEqual([200, "admin"]);
    expect(await orgRow(slug)).toMatchObject({ name: "Admin was here" });
  });
});

describe("deleting an org", () => {
  it("drops its schema, its rows and its files", async () => {
    const slug = uniqueSlug("doomed");
    const org = (await owner.client.post("/api/orgs", { name: "Doomed", slug })).json();
    const project = (await owner.client.post(`/api/orgs/${slug}/projects`, { name: "Lost" })).json();
    const member = await join(owner.client, slug, await kiln.signup(), "developer");
    const invited = await owner.client.post(`/api/orgs/${slug}/invitations`, { email: "later@example.com" });
    expect(invited.statusCode).toBe(201);
    const orgDir = path.join(kiln.dataDir, "orgs", org.id);
    expect(existsSync(kiln.storage.projectDir(org.id, project.id))).toBe(true);

    const res = await owner.client.delete(`/api/orgs/${org.id}`);
    expect([res.statusCode, res.json()]).toEqual([200, { ok: true }]);

    expect(await schemaExists(`org_${slug.replaceAll("-", "_")}`)).toBe(false);
    expect(existsSync(orgDir)).toBe(false);
    expect(await orgRow(slug)).toBeUndefined();
    const db = kiln.database.db;
    expect(await query(db, sql`SELECT 1 FROM memberships WHERE org_id = ${org.id}::uuid`)).toEqual([]);
    expect(await query(db, sql`SELECT 1 FROM invitations WHERE org_id = ${org.id}::uuid`)).toEqual([]);
    for (const client of [owner.client, member.client]) {
      const gone = await client.get(`/api/orgs/${org.id}`);
      expect([gone.statusCode, errorCode(gone)]).toEqual([404, "org_not_found"]);
      expect((await client.get("/api/orgs")).json().map((o: { id: string }) => o.id)).not.toContain(org.id);
    }
    const again = await owner.client.delete(`/api/orgs/${org.id}`);
    expect([again.statusCode, errorCode(again)]).toEqual([404, "org_not_found"]);
    // Its slug (and so its schema name) can be used again.
    expect((await owner.client.post("/api/orgs", { name: "Reborn", slug })).statusCode).toBe(201);
  });

  it("is for owners only: an admin gets 403 forbidden and the org stays", async () => {
    const slug = uniqueSlug("kept");
    const org = (await owner.client.post("/api/orgs", { name: "Kept", slug })).json();
    const admin = await join(owner.client, slug, await kiln.signup(), "admin");
    const res = await admin.client.delete(`/api/orgs/${slug}`);
    expect([res.statusCode, errorCode(res)]).toEqual([403, "forbidden"]);
    expect(await orgRow(slug)).toMatchObject({ id: org.id });
    expect(await schemaExists(`org_${slug.replaceAll("-", "_")}`)).toBe(true);
  });

  it("refuses to delete a personal org: 403 personal_org", async () => {
    const me = await kiln.signup();
    const res = await me.client.delete(`/api/orgs/${me.personalOrg.orgId}`);
    expect([res.statusCode, errorCode(res)]).toEqual([403, "personal_org"]);
    const row = await orgRow(me.personalOrg.slug);
    expect(row).toMatchObject({ id: me.personalOrg.orgId });
    expect(await schemaExists(row!.schema_name)).toBe(true);
    expect((await me.client.get(`/api/orgs/${me.personalOrg.slug}`)).statusCode).toBe(200);
  });
});

/** Brings `member` into the org with `role` through an invitation, as a person would join. */
async function join(
  inviter: SignedUp["client"],
  org: string,
  member: SignedUp,
  role: Role,
): Promise<SignedUp> {
  const invited = await inviter.post(`/api/orgs/${org}/invitations`, { email: member.user.email, role });
  expect(invited.statusCode).toBe(201);
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  const accepted = await member.client.post(`/api/invitations/${token}/accept`);
  expect([accepted.statusCode, accepted.json().role]).toEqual([200, role]);
  return member;
}

async function orgRow(slug: string) {
  const [row] = await query<{ id: string; name: string; schema_name: string }>(
    kiln.database.db,
    sql`SELECT id, name, schema_name FROM orgs WHERE slug = ${slug}`,
  );
  return row;
}

async function roleOf(orgId: string, userId: string): Promise<string | undefined> {
  const [row] = await query<{ role: string }>(
    kiln.database.db,
    sql`SELECT role FROM memberships WHERE org_id = ${orgId}::uuid AND user_id = ${userId}::uuid`,
  );
  return row?.role;
}

async function schemaExists(name: string): Promise<boolean> {
  const found = await query(kiln.database.db, sql`SELECT 1 FROM pg_namespace WHERE nspname = ${name}`);
  return found.length > 0;
}

function errorCode(res: LightMyRequestResponse): string | undefined {
  try {
    return res.json()?.error?.code;
  } catch {
    return undefined;
  }
}
