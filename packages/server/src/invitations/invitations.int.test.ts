import type { Role } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueEmail, uniqueSlug } from "../testing/harness.ts";

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln();
});
afterAll(() => kiln?.stop());

interface Team {
  owner: SignedUp;
  slug: string;
  orgId: string;
  name: string;
  base: string;
}

async function team(): Promise<Team> {
  const owner = await kiln.signup();
  const slug = uniqueSlug("inv");
  const name = `Team ${slug}`;
  const res = await owner.client.post("/api/orgs", { name, slug });
  expect(res.statusCode).toBe(201);
  return { owner, slug, orgId: res.json().id, name, base: `/api/orgs/${slug}/invitations` };
}

async function invite(t: Team, email: string, role: Role = "developer", by: SignedUp = t.owner) {
  const res = await by.client.post(t.base, { email, role });
  expect(res.statusCode, res.body).toBe(201);
  return { ...res.json(), token: tokenOf(res.json().url) } as { id: string; url: string; token: string };
}

/** Brings a new user into the org with `role`, by invitation. */
async function join(t: Team, role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const { token } = await invite(t, member.user.email, role);
  expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  return member;
}

describe("inviting", () => {
  it("mails a link that previews without sign-in and joins the invited email with the invited role", async () => {
    const t = await team();
    const admin = await join(t, "admin");
    const local = uniqueEmail("Invitee").split("@")[0]!;
    const before = Date.now();

    const res = await admin.client.post(t.base, { email: `${local}@Example.COM`, role: "reviewer" });
    expect(res.statusCode).toBe(201);
    const email = `${local.toLowerCase()}@example.com`;
    const created = res.json();
    expect(created).toMatchObject({
      orgId: t.orgId,
      email,
      role: "reviewer",
      invitedBy: admin.user.id,
      acceptedAt: null,
      emailSent: true,
    });
    expect(created.url).toMatch(/^http:\/\/localhost:4000\/invite\/inv_\S+$/);
    // Seven days by default (KILN_INVITATION_TTL_DAYS).
    const ttl = Date.parse(created.expiresAt) - before;
    expect(ttl).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(ttl).toBeLessThan(7 * 86_400_000 + 60_000);

    const mails = kiln.mails.sent.filter((m) => m.to === email);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toContain(t.name);
    const link = /https?:\/\/\S+\/invite\/\S+/.exec(mails[0]!.text)?.[0];
    expect(link).toBe(created.url);
    const token = tokenOf(link!);
    // Only the token's hash is stored.
    expect(await query(kiln.database.db, sql`SELECT 1 FROM invitations WHERE token_hash = ${token}`)).toEqual(
      [],
    );

    const pending = await admin.client.get(t.base);
    expect(pending.json().map((i: { id: string }) => i.id)).toContain(created.id);

    const preview = await kiln.client().get(`/api/invitations/${token}`);
    expect([preview.statusCode, preview.json()]).toEqual([
      200,
      { orgName: t.name, orgSlug: t.slug, email, role: "reviewer", expiresAt: created.expiresAt },
    ]);

    const invitee = await kiln.signup({ email: `${local.toUpperCase()}@example.com` });
    const accepted = await invitee.client.post(`/api/invitations/${token}/accept`);
    expect([accepted.statusCode, accepted.json()]).toEqual([200, { orgId: t.orgId, role: "reviewer" }]);

    expect((await invitee.client.get(`/api/orgs/${t.slug}`)).json().role).toBe("reviewer");
    expect(await roleOf(t, invitee.user.id)).toBe("reviewer");
    const [row] = await query<{ accepted_by: string }>(
      kiln.database.db,
      sql`SELECT accepted_by FROM invitations WHERE id = ${created.id}::uuid`,
    );
    expect(row!.accepted_by).toBe(invitee.user.id);
    expect((await admin.client.get(t.base)).json().map((i: { id: string }) => i.id)).not.toContain(
      created.id,
    );
  });

  it("is for admins: a developer gets 403 forbidden and nothing is sent", async () => {
    const t = await team();
    const dev = await join(t, "developer");
    const email = uniqueEmail("nope");
    const res = await dev.client.post(t.base, { email, role: "viewer" });
    expect([res.statusCode, errorCode(res)]).toEqual([403, "forbidden"]);
    const list = await dev.client.get(t.base);
    expect([list.statusCode, errorCode(list)]).toEqual([403, "forbidden"]);
    expect(kiln.mails.sent.filter((m) => m.to === email)).toEqual([]);
    expect(await invitationsFor(t, email)).toEqual([]);
  });

  it("lets only an owner invite an owner", async () => {
    const t = await team();
    const admin = await join(t, "admin");
    const email = uniqueEmail("boss");
    const denied = await admin.client.post(t.base, { email, role: "owner" });
    expect([denied.statusCode, errorCode(denied)]).toEqual([403, "forbidden"]);
    expect(await invitationsFor(t, email)).toEqual([]);

    const { token } = await invite(t, email, "owner");
    const boss = await kiln.signup({ email });
    const accepted = await boss.client.post(`/api/invitations/${token}/accept`);
    expect([accepted.statusCode, accepted.json().role]).toEqual([200, "owner"]);
    expect(await roleOf(t, boss.user.id)).toBe("owner");
  });

  it("defaults to the developer role", async () => {
    const t = await team();
    const res = await t.owner.client.post(t.base, { email: uniqueEmail() });
    expect([res.statusCode, res.json().role]).toEqual([201, "developer"]);
  });

  it("refuses bad bodies: 400 validation_failed", async () => {
    const t = await team();
    for (const body of [
      { email: "not-an-email" },
      { email: uniqueEmail(), role: "superuser" },
      {},
      { email: uniqueEmail(), role: "viewer", orgId: t.orgId },
    ]) {
      const res = await t.owner.client.post(t.base, body);
      expect([res.statusCode, errorCode(res)], JSON.stringify(body)).toEqual([400, "validation_failed"]);
    }
  });

  it("refuses to invite someone who is already a member: 409 already_member", async () => {
    const t = await team();
    const member = await join(t, "viewer");
    const mailsBefore = kiln.mails.sent.length;
    for (const email of [member.user.email, member.user.email.toUpperCase(), t.owner.user.email]) {
      const res = await t.owner.client.post(t.base, { email, role: "admin" });
      expect([res.statusCode, errorCode(res)], email).toEqual([409, "already_member"]);
    }
    expect(kiln.mails.sent.length).toBe(mailsBefore);
    expect(await roleOf(t, member.user.id)).toBe("viewer");
  });

  it("replaces a pending invitation to the same email: the old link stops working", async () => {
    const t = await team();
    const email = uniqueEmail("twice");
    const first = await invite(t, email, "viewer");
    const second = await invite(t, email.toUpperCase(), "admin");
    expect(second.token).not.toBe(first.token);

    const invitee = await kiln.signup({ email });
    for (const res of [
      await kiln.client().get(`/api/invitations/${first.token}`),
      await invitee.client.post(`/api/invitations/${first.token}/accept`),
    ]) {
      expect([res.statusCode, errorCode(res)]).toEqual([404, "invitation_not_found"]);
    }
    const pending = (await t.owner.client.get(t.base))
      .json()
      .filter((i: { email: string }) => i.email === email);
    expect(pending.map((i: { id: string; role: Role }) => [i.id, i.role])).toEqual([[second.id, "admin"]]);

    const accepted = await invitee.client.post(`/api/invitations/${second.token}/accept`);
    expect([accepted.statusCode, accepted.json().role]).toEqual([200, "admin"]);
  });
});

describe("accepting", () => {
  it("needs a signed-in caller, and leaves the invitation usable", async () => {
    const t = await team();
    const email = uniqueEmail("later");
    const { token } = await invite(t, email);
    const anonymous = await kiln.client().post(`/api/invitations/${token}/accept`);
    expect([anonymous.statusCode, errorCode(anonymous)]).toEqual([401, "unauthenticated"]);
    expect((await kiln.client().get(`/api/invitations/${token}`)).statusCode).toBe(200);
  });

  it("refuses anyone but the invited email: 403 invitation_email_mismatch", async () => {
    const t = await team();
    const email = uniqueEmail("intended");
    const { token } = await invite(t, email, "admin");
    const forwardedTo = await kiln.signup();
    const res = await forwardedTo.client.post(`/api/invitations/${token}/accept`);
    expect([res.statusCode, errorCode(res)]).toEqual([403, "invitation_email_mismatch"]);
    expect(await roleOf(t, forwardedTo.user.id)).toBeUndefined();
    const wrong = await forwardedTo.client.get(`/api/orgs/${t.slug}`);
    expect([wrong.statusCode, errorCode(wrong)]).toEqual([404, "org_not_found"]);

    // The rightful invitee can still use it.
    const intended = await kiln.signup({ email });
    expect((await intended.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
    expect(await roleOf(t, intended.user.id)).toBe("admin");
  });

  it("works once: a second accept is 404 invitation_not_found", async () => {
    const t = await team();
    const email = uniqueEmail("once");
    const { token } = await invite(t, email, "viewer");
    const invitee = await kiln.signup({ email });
    expect((await invitee.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
    for (const res of [
      await invitee.client.post(`/api/invitations/${token}/accept`),
      await kiln.client().get(`/api/invitations/${token}`),
    ]) {
      expect([res.statusCode, errorCode(res)]).toEqual([404, "invitation_not_found"]);
    }
    expect(await roleOf(t, invitee.user.id)).toBe("viewer");
  });

  it("is refused once the invitation is revoked: 404 invitation_not_found", async () => {
    const t = await team();
    const email = uniqueEmail("revoked");
    const { id, token } = await invite(t, email);
    const revoked = await t.owner.client.delete(`${t.base}/${id}`);
    expect([revoked.statusCode, revoked.json()]).toEqual([200, { ok: true }]);

    const invitee = await kiln.signup({ email });
    for (const res of [
      await kiln.client().get(`/api/invitations/${token}`),
      await invitee.client.post(`/api/invitations/${token}/accept`),
      await t.owner.client.delete(`${t.base}/${id}`),
    ]) {
      expect([res.statusCode, errorCode(res)]).toEqual([404, "invitation_not_found"]);
    }
    expect(await roleOf(t, invitee.user.id)).toBeUndefined();
    expect((await t.owner.client.get(t.base)).json().map((i: { id: string }) => i.id)).not.toContain(id);
  });

  it("is refused once the invitation has expired: 410 invitation_expired", async () => {
    const t = await team();
    const email = uniqueEmail("expired");
    const { id, token } = await invite(t, email);
    // The TTL setting is at least a day, so age the row instead of waiting.
    await kiln.database.db.execute(
      sql`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = ${id}::uuid`,
    );
    const invitee = await kiln.signup({ email });
    for (const res of [
      await kiln.client().get(`/api/invitations/${token}`),
      await invitee.client.post(`/api/invitations/${token}/accept`),
    ]) {
      expect([res.statusCode, errorCode(res)]).toEqual([410, "invitation_expired"]);
    }
    expect(await roleOf(t, invitee.user.id)).toBeUndefined();
    expect((await t.owner.client.get(t.base)).json().map((i: { id: string }) => i.id)).not.toContain(id);
    // A fresh invitation to the same address replaces the expired one and works.
    const again = await invite(t, email);
    expect((await invitee.client.post(`/api/invitations/${again.token}/accept`)).statusCode).toBe(200);
  });
});

describe("revoking", () => {
  it("is for admins, and answers 404 for unknown ids and 400 for malformed ones", async () => {
    const t = await team();
    const dev = await join(t, "developer");
    const { id, token } = await invite(t, uniqueEmail("keep"));
    const denied = await dev.client.delete(`${t.base}/${id}`);
    expect([denied.statusCode, errorCode(denied)]).toEqual([403, "forbidden"]);
    expect((await kiln.client().get(`/api/invitations/${token}`)).statusCode).toBe(200);

    const unknown = await t.owner.client.delete(`${t.base}/00000000-0000-4000-8000-000000000000`);
    expect([unknown.statusCode, errorCode(unknown)]).toEqual([404, "invitation_not_found"]);
    const malformed = await t.owner.client.delete(`${t.base}/not-an-id`);
    expect([malformed.statusCode, errorCode(malformed)]).toEqual([400, "validation_failed"]);
  });
});

describe("tokens that are not invitations", () => {
  it("answer 4xx without a hint, never 5xx", async () => {
    const t = await team();
    const user = await kiln.signup();
    const { token } = await invite(t, uniqueEmail("real"));
    const cases: Array<[string, number, string]> = [
      ["short", 400, "validation_failed"],
      [`inv_${"A".repeat(43)}`, 404, "invitation_not_found"],
      [`${token}x`, 404, "invitation_not_found"],
      [token.slice(0, -1), 404, "invitation_not_found"],
      [token.toUpperCase(), 404, "invitation_not_found"],
      [encodeURIComponent("inv_' OR '1'='1"), 404, "invitation_not_found"],
      [encodeURIComponent("../../api/auth/me"), 404, "invitation_not_found"],
    ];
    for (const [garbage, status, code] of cases) {
      for (const res of [
        await kiln.client().get(`/api/invitations/${garbage}`),
        await user.client.post(`/api/invitations/${garbage}/accept`),
      ]) {
        expect([res.statusCode, errorCode(res)], garbage).toEqual([status, code]);
      }
    }
    // Longer than any token: refused while routing (414) or by the schema (400); either way a 4xx envelope.
    for (const res of [
      await kiln.client().get(`/api/invitations/${"x".repeat(101)}`),
      await user.client.post(`/api/invitations/${"x".repeat(101)}/accept`),
    ]) {
      expect(res.statusCode).toBeGreaterThanOrEqual(400);
      expect(res.statusCode).toBeLessThan(500);
      expect(errorCode(res)).toEqual(expect.any(String));
    }
    expect((await user.client.get("/api/orgs")).json()).toHaveLength(1);
  });
});

function tokenOf(url: string): string {
  return new URL(url).pathname.split("/").at(-1)!;
}

async function roleOf(t: Team, userId: string): Promise<string | undefined> {
  const [row] = await query<{ role: string }>(
    kiln.database.db,
    sql`SELECT role FROM memberships WHERE org_id = ${t.orgId}::uuid AND user_id = ${userId}::uuid`,
  );
  return row?.role;
}

async function invitationsFor(t: Team, email: string) {
  return query(
    kiln.database.db,
    sql`SELECT id FROM invitations WHERE org_id = ${t.orgId}::uuid AND email = ${email.toLowerCase()}`,
  );
}

function errorCode(res: LightMyRequestResponse): string | undefined {
  try {
    return res.json()?.error?.code;
  } catch {
    return undefined;
  }
}
