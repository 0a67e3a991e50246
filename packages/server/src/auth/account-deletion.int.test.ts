import { existsSync } from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { memberships, orgs, users } from "../db/schema-shared.ts";
import { expectError, joinByInvitation, newOrg } from "../testing/api.ts";
import { startTestKiln, type TestKiln } from "../testing/harness.ts";

/**
 * Deleting an account leaves no org without an owner: what it alone holds goes with it, an org where it is
 * the last owner of others blocks it, the rest it leaves. The scrubbed account cannot sign in again, and
 * its address is free for a new account.
 */

let kiln: TestKiln;

beforeAll(async () => {
  kiln = await startTestKiln();
});
afterAll(async () => {
  await kiln?.stop();
});

const slugs = (list: Array<{ slug: string }>) => list.map((o) => o.slug).sort();

describe("deleting an account", () => {
  it("says what goes, what stays and what blocks it; refuses while it is a last owner; then deletes", async () => {
    const ada = await kiln.signup({ name: "Ada" });
    const bob = await kiln.signup({ name: "Bob" });
    const solo = await newOrg(ada, "Solo");
    const project = (await ada.client.post(`/api/orgs/${solo.slug}/projects`, { name: "Lone app" })).json();
    const shared = await newOrg(ada, "Shared");
    await joinByInvitation(ada, shared, bob, "owner");
    const ruled = await newOrg(ada, "Ruled");
    await joinByInvitation(ada, ruled, bob, "developer");
    const guest = await newOrg(bob, "Bob's");
    await joinByInvitation(bob, guest, ada, "developer");

    const plan = (await ada.client.get("/api/auth/me/deletion")).json();
    expect(slugs(plan.deletes)).toEqual(slugs([ada.personalOrg, solo]));
    expect(slugs(plan.blockedBy)).toEqual([ruled.slug]);
    expect(slugs(plan.leaves)).toEqual(slugs([shared, guest]));

    expectError(await ada.client.post("/api/auth/me/delete", { password: "not it" }), 403, "wrong_password");
    const blocked = await ada.client.post("/api/auth/me/delete", { password: ada.password });
    expectError(blocked, 409, "last_owner");
    expect(blocked.json().error.details.orgs.map((o: { slug: string }) => o.slug)).toEqual([ruled.slug]);
    expect((await ada.client.get("/api/auth/me")).statusCode).toBe(200);

    // Bob is made owner of "Ruled": nothing blocks it any more.
    const promoted = await ada.client.patch(`/api/orgs/${ruled.slug}/members/${bob.user.id}`, {
      role: "owner",
    });
    expect(promoted.statusCode, promoted.body).toBe(200);
    const dir = kiln.storage.projectDir(solo.id, project.id);
    expect(existsSync(dir)).toBe(true);
    const done = await ada.client.post("/api/auth/me/delete", { password: ada.password });
    expect([done.statusCode, done.json()]).toEqual([200, { ok: true }]);

    // Signed out everywhere, and no way back in.
    expect((await ada.client.get("/api/auth/me")).statusCode).toBe(401);
    expectError(
      await kiln.client().post("/api/auth/login", { email: ada.user.email, password: ada.password }),
      401,
      "invalid_credentials",
    );
    // Its own orgs are gone with their files; the others stay with Bob, who owns each.
    const remaining = await kiln.database.db.select({ slug: orgs.slug }).from(orgs);
    const left = new Set(remaining.map((o) => o.slug));
    expect([ada.personalOrg.slug, solo.slug].filter((s) => left.has(s))).toEqual([]);
    expect([shared.slug, ruled.slug, guest.slug].every((s) => left.has(s))).toBe(true);
    expect(existsSync(dir)).toBe(false);
    expect(existsSync(path.join(kiln.dataDir, "orgs", solo.id))).toBe(false);
    const members = (await bob.client.get(`/api/orgs/${ruled.slug}/members`)).json();
    expect(members.map((m: { userId: string }) => m.userId)).toEqual([bob.user.id]);

    // The row stays, scrubbed; the address is free for a new account.
    const [row] = await kiln.database.db.select().from(users).where(eq(users.id, ada.user.id));
    expect(row).toMatchObject({ name: "Deleted user", emailVerifiedAt: null });
    expect(row?.email).toBe(`deleted-${ada.user.id}@deleted.invalid`);
    expect(row?.deletedAt).toBeInstanceOf(Date);
    const again = await kiln.signup({ email: ada.user.email });
    expect(again.user.id).not.toBe(ada.user.id);
  });

  it("takes the personal org with it even when others were let in", async () => {
    const owner = await kiln.signup();
    const guest = await kiln.signup();
    await joinByInvitation(owner, owner.personalOrg, guest, "developer");
    const plan = (await owner.client.get("/api/auth/me/deletion")).json();
    expect(slugs(plan.deletes)).toEqual([owner.personalOrg.slug]);
    expect((await owner.client.post("/api/auth/me/delete", { password: owner.password })).statusCode).toBe(
      200,
    );
    expectError(await guest.client.get(`/api/orgs/${owner.personalOrg.slug}/projects`), 404, "org_not_found");
  });

  it("keeps an org someone joined while its last member left, and makes them its owner", async () => {
    const ada = await kiln.signup();
    const late = await kiln.signup();
    const org = await newOrg(ada, "Handed over");
    const [row] = await kiln.database.db.select().from(orgs).where(eq(orgs.id, org.id));
    // Ada is gone and Late's membership (say, an invitation accepted a moment before) is there.
    await kiln.database.db.delete(memberships).where(eq(memberships.orgId, org.id));
    await kiln.database.db
      .insert(memberships)
      .values({ orgId: org.id, userId: late.user.id, role: "developer" });
    expect(await kiln.services.orgs.removeWithAccount(row!)).toBe(false);
    const [kept] = await kiln.database.db.select().from(memberships).where(eq(memberships.orgId, org.id));
    expect(kept).toMatchObject({ userId: late.user.id, role: "owner" });
  });

  it("refuses garbage with 400 and a code, and an API token cannot delete without the password", async () => {
    const user = await kiln.signup();
    for (const body of [
      {},
      { password: "" },
      { password: "p".repeat(257) },
      { password: user.password, force: true },
    ]) {
      expectError(await user.client.post("/api/auth/me/delete", body), 400, "validation_failed");
    }
    expectError(await kiln.client().post("/api/auth/me/delete", { password: "x" }), 401, "unauthenticated");
    expect((await user.client.get("/api/auth/me")).statusCode).toBe(200);
  });
});
