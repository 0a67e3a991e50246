import type { Role } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

const ROUNDS = 10;

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln();
});
afterAll(() => kiln?.stop());

/** A fresh org with an owner and, on request, members of the given roles. */
async function team(...roles: Role[]) {
  const owner = await kiln.signup();
  const slug = uniqueSlug("team");
  const created = await owner.client.post("/api/orgs", { name: "Team", slug });
  expect(created.statusCode).toBe(201);
  const orgId: string = created.json().id;
  const members: SignedUp[] = [];
  for (const role of roles) members.push(await join(owner, slug, role));
  return { owner, slug, orgId, members, base: `/api/orgs/${slug}/members` };
}

async function join(inviter: SignedUp, org: string, role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await inviter.client.post(`/api/orgs/${org}/invitations`, {
    email: member.user.email,
    role,
  });
  expect(invited.statusCode).toBe(201);
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  const accepted = await member.client.post(`/api/invitations/${token}/accept`);
  expect([accepted.statusCode, accepted.json().role]).toEqual([200, role]);
  return member;
}

describe("listing members", () => {
  it("shows every member with their role to any member", async () => {
    const { owner, base, members } = await team("developer", "viewer");
    const [dev, viewer] = members as [SignedUp, SignedUp];
    const res = await viewer.client.get(base);
    expect(res.statusCode).toBe(200);
    // The order is the database's email collation, which differs between servers; compare as a set.
    const byUser = (x: { userId: string }, y: { userId: string }) => x.userId.localeCompare(y.userId);
    const expected = (
      [
        [owner, "owner"],
        [dev, "developer"],
        [viewer, "viewer"],
      ] as const
    ).map(([m, role]) => ({
      userId: m.user.id,
      email: m.user.email,
      name: m.user.name,
      role,
      joinedAt: expect.any(String),
    }));
    expect(res.json().sort(byUser)).toEqual(expected.sort(byUser));
  });
});

describe("changing a role", () => {
  it("an admin changes roles below owner", async () => {
    const { base, slug, members } = await team("admin", "developer");
    const [admin, dev] = members as [SignedUp, SignedUp];
    const res = await admin.client.patch(`${base}/${dev.user.id}`, { role: "reviewer" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ userId: dev.user.id, email: dev.user.email, role: "reviewer" });
    expect((await dev.client.get(`/api/orgs/${slug}`)).json().role).toBe("reviewer");
    const promoted = await admin.client.patch(`${base}/${dev.user.id}`, { role: "admin" });
    expect([promoted.statusCode, promoted.json().role]).toEqual([200, "admin"]);
  });

  it("only an owner grants or takes away the owner role", async () => {
    const { owner, base, orgId, members } = await team("admin", "developer");
    const [admin, dev] = members as [SignedUp, SignedUp];
    for (const res of [
      await admin.client.patch(`${base}/${dev.user.id}`, { role: "owner" }),
      await admin.client.patch(`${base}/${admin.user.id}`, { role: "owner" }),
      await admin.client.patch(`${base}/${owner.user.id}`, { role: "admin" }),
      await admin.client.delete(`${base}/${owner.user.id}`),
    ]) {
      expect([res.statusCode, errorCode(res)]).toEqual([403, "forbidden"]);
    }
    expect(await roles(orgId)).toEqual({
      [owner.user.id]: "owner",
      [admin.user.id]: "admin",
      [dev.user.id]: "developer",
    });

    const granted = await owner.client.patch(`${base}/${dev.user.id}`, { role: "owner" });
    expect([granted.statusCode, granted.json().role]).toEqual([200, "owner"]);
    // With two owners, one owner may demote the other.
    const revoked = await owner.client.patch(`${base}/${dev.user.id}`, { role: "developer" });
    expect([revoked.statusCode, revoked.json().role]).toEqual([200, "developer"]);
  });

  it("a member below admin cannot change roles, not even their own", async () => {
    const { owner, base, orgId, members } = await team("developer", "viewer");
    const [dev, viewer] = members as [SignedUp, SignedUp];
    for (const res of [
      await dev.client.patch(`${base}/${viewer.user.id}`, { role: "developer" }),
      await dev.client.patch(`${base}/${dev.user.id}`, { role: "admin" }),
      await viewer.client.patch(`${base}/${viewer.user.id}`, { role: "owner" }),
    ]) {
      expect([res.statusCode, errorCode(res)]).toEqual([403, "forbidden"]);
    }
    expect(await roles(orgId)).toEqual({
      [owner.user.id]: "owner",
      [dev.user.id]: "developer",
      [viewer.user.id]: "viewer",
    });
  });

  it("refuses a role that does not exist: 400 validation_failed", async () => {
    const { owner, base, members } = await team("developer");
    for (const body of [{ role: "superuser" }, {}, { role: "admin", extra: true }]) {
      const res = await owner.client.patch(`${base}/${members[0]!.user.id}`, body);
      expect([res.statusCode, errorCode(res)], JSON.stringify(body)).toEqual([400, "validation_failed"]);
    }
  });
});

describe("the last owner", () => {
  it("can be neither demoted, removed nor leave: 409 last_owner", async () => {
    const { owner, base, orgId } = await team("admin");
    for (const res of [
      await owner.client.patch(`${base}/${owner.user.id}`, { role: "admin" }),
      await owner.client.delete(`${base}/${owner.user.id}`),
    ]) {
      expect([res.statusCode, errorCode(res)]).toEqual([409, "last_owner"]);
    }
    expect(await roles(orgId)).toMatchObject({ [owner.user.id]: "owner" });
  });

  it("of two, one may leave; the other is then the last", async () => {
    const { owner, base, slug, orgId, members } = await team("owner");
    const [second] = members as [SignedUp];
    const left = await owner.client.delete(`${base}/${owner.user.id}`);
    expect([left.statusCode, left.json()]).toEqual([200, { ok: true }]);
    const gone = await owner.client.get(`/api/orgs/${slug}`);
    expect([gone.statusCode, errorCode(gone)]).toEqual([404, "org_not_found"]);

    for (const res of [
      await second.client.patch(`${base}/${second.user.id}`, { role: "viewer" }),
      await second.client.delete(`${base}/${second.user.id}`),
    ]) {
      expect([res.statusCode, errorCode(res)]).toEqual([409, "last_owner"]);
    }
    expect(await roles(orgId)).toEqual({ [second.user.id]: "owner" });
  });

  it("of two owners leaving, or demoting each other, at once, exactly one succeeds", {
    timeout: 60_000,
  }, async () => {
    // A race shows only sometimes, so run several; a lock-order deadlock surfaced as a 500 on PostgreSQL.
    for (let round = 0; round < ROUNDS; round++) {
      const { owner, base, orgId, members } = await team("owner");
      const [second] = members as [SignedUp];
      const leave = round % 2 === 0;
      const results = await Promise.all(
        leave
          ? [owner, second].map((m) => m.client.delete(`${base}/${m.user.id}`))
          : [
              owner.client.patch(`${base}/${second.user.id}`, { role: "admin" }),
              second.client.patch(`${base}/${owner.user.id}`, { role: "admin" }),
            ],
      );
      const outcomes = results.map((r) => `${r.statusCode} ${errorCode(r) ?? ""}`.trim()).sort();
      // The loser is still an owner (409 last_owner) or, if it was demoted before its request was
      // authorised, an admin who may not touch an owner (403 forbidden).
      const losing = leave ? ["409 last_owner"] : ["409 last_owner", "403 forbidden"];
      expect(outcomes[0], `round ${round}: ${outcomes}`).toBe("200");
      expect(losing, `round ${round}: ${outcomes}`).toContain(outcomes[1]);
      expect(Object.values(await roles(orgId)).sort()).toEqual(leave ? ["owner"] : ["admin", "owner"]);
    }
  });
});

describe("removing and leaving", () => {
  it("an admin removes a member, who loses the org at once", async () => {
    const { base, slug, orgId, members } = await team("admin", "developer");
    const [admin, dev] = members as [SignedUp, SignedUp];
    const res = await admin.client.delete(`${base}/${dev.user.id}`);
    expect([res.statusCode, res.json()]).toEqual([200, { ok: true }]);
    expect((await admin.client.get(base)).json().map((m: { userId: string }) => m.userId)).not.toContain(
      dev.user.id,
    );
    expect(await roles(orgId)).not.toHaveProperty(dev.user.id);
    const gone = await dev.client.get(`/api/orgs/${slug}`);
    expect([gone.statusCode, errorCode(gone)]).toEqual([404, "org_not_found"]);
    const again = await admin.client.delete(`${base}/${dev.user.id}`);
    expect([again.statusCode, errorCode(again)]).toEqual([404, "member_not_found"]);
  });

  it("an admin may remove another admin", async () => {
    const { base, orgId, members } = await team("admin", "admin");
    const [first, second] = members as [SignedUp, SignedUp];
    expect((await first.client.delete(`${base}/${second.user.id}`)).statusCode).toBe(200);
    expect(await roles(orgId)).not.toHaveProperty(second.user.id);
  });

  it("a member below admin cannot remove others", async () => {
    const { owner, base, orgId, members } = await team("developer", "viewer");
    const [dev, viewer] = members as [SignedUp, SignedUp];
    for (const res of [
      await dev.client.delete(`${base}/${viewer.user.id}`),
      await viewer.client.delete(`${base}/${dev.user.id}`),
      await dev.client.delete(`${base}/${owner.user.id}`),
    ]) {
      expect([res.statusCode, errorCode(res)]).toEqual([403, "forbidden"]);
    }
    expect(Object.keys(await roles(orgId))).toHaveLength(3);
  });

  it("any member may leave", async () => {
    const { base, slug, orgId, members } = await team("viewer", "admin");
    for (const member of members) {
      const res = await member.client.delete(`${base}/${member.user.id}`);
      expect([res.statusCode, res.json()]).toEqual([200, { ok: true }]);
      expect((await member.client.get(`/api/orgs/${slug}`)).statusCode).toBe(404);
      expect(await roles(orgId)).not.toHaveProperty(member.user.id);
    }
  });
});

describe("addressing a member", () => {
  it("answers 404 member_not_found for a user who is not a member", async () => {
    const { owner, base } = await team();
    const outsider = await kiln.signup();
    for (const userId of [outsider.user.id, "00000000-0000-4000-8000-000000000000"]) {
      for (const res of [
        await owner.client.patch(`${base}/${userId}`, { role: "viewer" }),
        await owner.client.delete(`${base}/${userId}`),
      ]) {
        expect([res.statusCode, errorCode(res)], userId).toEqual([404, "member_not_found"]);
      }
    }
    expect((await outsider.client.get("/api/orgs")).json()).toHaveLength(1);
  });

  it("answers 400 validation_failed for an id that is not a UUID", async () => {
    const { owner, base } = await team();
    for (const userId of ["not-a-uuid", "123", owner.user.email, `${owner.user.id}x`]) {
      for (const res of [
        await owner.client.patch(`${base}/${encodeURIComponent(userId)}`, { role: "viewer" }),
        await owner.client.delete(`${base}/${encodeURIComponent(userId)}`),
      ]) {
        expect([res.statusCode, errorCode(res)], userId).toEqual([400, "validation_failed"]);
      }
    }
  });
});

async function roles(orgId: string): Promise<Record<string, string>> {
  const rows = await query<{ user_id: string; role: string }>(
    kiln.database.db,
    sql`SELECT user_id, role FROM memberships WHERE org_id = ${orgId}::uuid ORDER BY user_id`,
  );
  return Object.fromEntries(rows.map((r) => [r.user_id, r.role]));
}

function errorCode(res: LightMyRequestResponse): string | undefined {
  try {
    return res.json()?.error?.code;
  } catch {
    return undefined;
  }
}
