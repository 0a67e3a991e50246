import { ENV_LIMITS, type Role } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/** A project's environment variables through the API: what is stored, shown, refused, and to whom. */

let kiln: TestKiln;
let owner: SignedUp;
let org: { id: string; slug: string };

const SECRET = "sk_live_9f8e7d6c5b4a3210-very-secret";

beforeAll(async () => {
  kiln = await startTestKiln();
  owner = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Env", slug: uniqueSlug("env") })).json();
}, 120_000);
afterAll(() => kiln?.stop());

async function newProject(name = "Env app"): Promise<{ id: string; slug: string; base: string }> {
  const res = await owner.client.post(`/api/orgs/${org.slug}/projects`, { name, template: "static" });
  expect(res.statusCode, res.body).toBe(201);
  const { id, slug } = res.json();
  return { id, slug, base: `/api/orgs/${org.slug}/projects/${slug}/env` };
}

async function join(role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await owner.client.post(`/api/orgs/${org.slug}/invitations`, {
    email: member.user.email,
    role,
  });
  expect(invited.statusCode).toBe(201);
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  return member;
}

function code(res: { json(): unknown }): string | undefined {
  return (res.json() as { error?: { code?: string } }).error?.code;
}

describe("project environment variables", () => {
  it("stores plain values to show and secrets to hide, and replaces and removes them", async () => {
    const p = await newProject();
    expect((await owner.client.get(p.base)).json()).toEqual([]);

    const plain = await owner.client.put(p.base, { name: "API_URL", value: "https://api.example.com" });
    expect(plain.statusCode, plain.body).toBe(200);
    expect(plain.json()).toMatchObject({
      variable: { name: "API_URL", secret: false, value: "https://api.example.com", hint: null },
      restarted: false,
    });
    const secret = await owner.client.put(p.base, { name: "STRIPE_KEY", value: SECRET, secret: true });
    expect(secret.json().variable).toMatchObject({
      name: "STRIPE_KEY",
      secret: true,
      value: null,
      hint: "…cret",
    });
    const short = await owner.client.put(p.base, { name: "PIN", value: "1234", secret: true });
    expect(short.json().variable).toMatchObject({ value: null, hint: null });

    const listed = (await owner.client.get(p.base)).json();
    expect(listed.map((v: { name: string }) => v.name)).toEqual(["API_URL", "PIN", "STRIPE_KEY"]);
    expect(JSON.stringify(listed)).not.toContain(SECRET);

    // Replacing a plain value with a secret one hides it from then on.
    await owner.client.put(p.base, { name: "API_URL", value: "https://hidden.example.com", secret: true });
    const replaced = (await owner.client.get(p.base))
      .json()
      .find((v: { name: string }) => v.name === "API_URL");
    expect(replaced).toMatchObject({ secret: true, value: null });

    const removed = await owner.client.delete(`${p.base}/PIN`);
    expect([removed.statusCode, removed.json()]).toEqual([200, { ok: true, restarted: false }]);
    const again = await owner.client.delete(`${p.base}/PIN`);
    expect([again.statusCode, code(again)]).toEqual([404, "env_var_not_found"]);
    expect((await owner.client.get(p.base)).json()).toHaveLength(2);
  });

  it("keeps every value sealed at rest, bound to its project and name", async () => {
    const p = await newProject();
    await owner.client.put(p.base, { name: "PLAIN_ONE", value: "plain-value-at-rest" });
    await owner.client.put(p.base, { name: "SEALED_ONE", value: SECRET, secret: true });
    const schema = `org_${org.slug.replaceAll("-", "_")}`;
    const rows = await query<{ name: string; value_sealed: string; hint: string | null }>(
      kiln.database.db,
      sql.raw(
        `SELECT name, value_sealed, hint FROM "${schema}".project_env_vars WHERE project_id = '${p.id}'`,
      ),
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.value_sealed).toMatch(/^v1\./);
      expect(row.value_sealed).not.toContain("plain-value-at-rest");
      expect(row.value_sealed).not.toContain(SECRET);
    }
    expect(await kiln.services.projectEnv.forProject(org.id, p.id)).toEqual({
      PLAIN_ONE: "plain-value-at-rest",
      SEALED_ONE: SECRET,
    });

    // A sealed value moved to another name (or project) does not open there: it is left out, not shown.
    const sealed = rows.find((r) => r.name === "SEALED_ONE")!.value_sealed;
    await kiln.database.db.execute(
      sql.raw(`UPDATE "${schema}".project_env_vars SET value_sealed = '${sealed}' WHERE name = 'PLAIN_ONE'`),
    );
    expect(await kiln.services.projectEnv.forProject(org.id, p.id)).toEqual({ SEALED_ONE: SECRET });
    const listed = (await owner.client.get(p.base)).json();
    expect(listed.find((v: { name: string }) => v.name === "PLAIN_ONE").value).toBeNull();
  });

  it("refuses bad names, reserved names, oversized or unrepresentable values and a 101st variable", async () => {
    const p = await newProject();
    const put = (body: unknown) => owner.client.put(p.base, body);
    for (const name of ["lower", "1ABC", "WITH-DASH", "A B", "", "X".repeat(ENV_LIMITS.nameChars + 1), "Ä"]) {
      const res = await put({ name, value: "x" });
      expect([res.statusCode, code(res)], name).toEqual([400, "validation_failed"]);
      expect(res.json().error.details.issues[0].path).toBe("/name");
    }
    for (const name of [
      "PATH",
      "HOME",
      "NODE_OPTIONS",
      "LD_PRELOAD",
      "LD_LIBRARY_PATH",
      "KILN_SECRET_KEY",
      "PORT",
      "GIT_DIR",
    ]) {
      const res = await put({ name, value: "x" });
      expect([res.statusCode, code(res)], name).toEqual([400, "env_var_reserved"]);
      expect(res.json().error.message).toContain("Kiln's sandbox");
    }
    const tooLong = "x".repeat(ENV_LIMITS.valueBytes + 1);
    const multibyte = "é".repeat(ENV_LIMITS.valueBytes / 2 + 1); // within the characters, over the bytes
    for (const value of [tooLong, multibyte, "nul\u0000inside", "lone\ud800surrogate", 42, null]) {
      const res = await put({ name: "SOME_VALUE", value });
      expect([res.statusCode, code(res)], String(value).slice(0, 20)).toEqual([400, "validation_failed"]);
    }
    for (const body of [
      { name: "NO_VALUE" },
      { value: "x" },
      { name: "X", value: "x", extra: 1 },
      { name: "X", value: "x", secret: "yes" },
      [],
    ]) {
      const res = await put(body);
      expect([res.statusCode, code(res)], JSON.stringify(body)).toEqual([400, "validation_failed"]);
    }
    const garbage = await owner.client.delete(`${p.base}/${encodeURIComponent("../../etc")}`);
    expect(garbage.statusCode).toBe(400);
    expect((await owner.client.get(p.base)).json()).toEqual([]);

    // Exactly 32 KiB is fine; multi-line values and any other character too.
    const full = await put({ name: "FULL", value: "y".repeat(ENV_LIMITS.valueBytes) });
    expect(full.statusCode).toBe(200);
    const odd = await put({ name: "ODD", value: "line 1\nline 2 'quoted' \"$HOME\" ünïcødé 😀" });
    expect(odd.json().variable.value).toBe("line 1\nline 2 'quoted' \"$HOME\" ünïcødé 😀");

    for (let i = 2; i < ENV_LIMITS.perProject; i++) {
      expect((await put({ name: `VAR_${i}`, value: String(i) })).statusCode).toBe(200);
    }
    const over = await put({ name: "ONE_TOO_MANY", value: "x" });
    expect([over.statusCode, code(over)]).toEqual([409, "too_many_env_vars"]);
    // Replacing one at the limit is not another one.
    expect((await put({ name: "VAR_2", value: "changed" })).statusCode).toBe(200);
    expect((await owner.client.get(p.base)).json()).toHaveLength(ENV_LIMITS.perProject);
  });

  it("shows viewers and reviewers names only, lets developers read plain values and change them", async () => {
    const p = await newProject();
    await owner.client.put(p.base, { name: "PUBLIC_URL", value: "https://example.com" });
    await owner.client.put(p.base, { name: "TOKEN", value: SECRET, secret: true });
    for (const role of ["viewer", "reviewer"] as const) {
      const member = await join(role);
      const listed = await member.client.get(p.base);
      expect(listed.statusCode).toBe(200);
      expect(listed.json()).toEqual([
        expect.objectContaining({ name: "PUBLIC_URL", secret: false, value: null, hint: null }),
        expect.objectContaining({ name: "TOKEN", secret: true, value: null, hint: null }),
      ]);
      const set = await member.client.put(p.base, { name: "TOKEN", value: "mine" });
      expect([set.statusCode, code(set)]).toEqual([403, "forbidden"]);
      const removed = await member.client.delete(`${p.base}/TOKEN`);
      expect([removed.statusCode, code(removed)]).toEqual([403, "forbidden"]);
    }
    const dev = await join("developer");
    const listed = (await dev.client.get(p.base)).json();
    expect(listed[0]).toMatchObject({ name: "PUBLIC_URL", value: "https://example.com" });
    expect(listed[1]).toMatchObject({ name: "TOKEN", value: null, hint: "…cret" });
    expect((await dev.client.put(p.base, { name: "DEV_SET", value: "1" })).statusCode).toBe(200);
    expect((await dev.client.delete(`${p.base}/DEV_SET`)).statusCode).toBe(200);
  });

  it("goes with its project", async () => {
    const p = await newProject();
    await owner.client.put(p.base, { name: "GONE_SOON", value: SECRET, secret: true });
    expect((await owner.client.delete(`/api/orgs/${org.slug}/projects/${p.slug}`)).statusCode).toBe(200);
    const schema = `org_${org.slug.replaceAll("-", "_")}`;
    const rows = await query(
      kiln.database.db,
      sql.raw(`SELECT name FROM "${schema}".project_env_vars WHERE project_id = '${p.id}'`),
    );
    expect(rows).toEqual([]);
    const listed = await owner.client.get(p.base);
    expect([listed.statusCode, code(listed)]).toEqual([404, "project_not_found"]);
  });
});

describe("a secret's value", () => {
  it("appears in no answer of any GET route of the org, the project or the API description", async () => {
    const p = await newProject("Leak check");
    const marker = `leak-marker-${Date.now()}-secret-value`;
    const set = await owner.client.put(p.base, { name: "LEAK_CHECK", value: marker, secret: true });
    expect(set.statusCode).toBe(200);
    expect(set.body).not.toContain(marker);
    const doc = await kiln.client().get("/api/openapi.json");
    const bodies: string[] = [doc.body];
    const values: Record<string, string> = { org: org.slug, project: p.slug };
    let checked = 0;
    for (const [path, item] of Object.entries<
      Record<string, { parameters?: { in: string; required?: boolean }[] }>
    >(doc.json().paths)) {
      const get = item.get;
      if (!get) continue;
      // Routes that need a query parameter or another resource's id are left to their own tests.
      if ((get.parameters ?? []).some((param) => param.in === "query" && param.required)) continue;
      const names = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      if (names.some((n) => values[n] === undefined)) continue;
      const url = path.replace(/\{(\w+)\}/g, (_, n: string) => values[n]!);
      const res = await owner.client.get(url, { headers: { accept: "application/json" } });
      bodies.push(res.body);
      checked++;
    }
    // The project, the project list, its env, runtime, files, history, chats, board… and the org's lists.
    expect(checked).toBeGreaterThan(20);
    for (const body of bodies) expect(body).not.toContain(marker);
    expect(bodies.join("\n")).toContain("LEAK_CHECK");
    // Nor in the project's files: the repository never holds it.
    const found = await owner.client.get(
      `/api/orgs/${org.slug}/projects/${p.slug}/files/search?query=${encodeURIComponent(marker)}&includeIgnored=true`,
    );
    expect([found.statusCode, found.json().matches]).toEqual([200, []]);
  });
});
