import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import { auditEvents, orgs } from "../db/schema-shared.ts";
import { llmCalls } from "../db/schema-tenant.ts";
import { expectError, joinByInvitation, newOrg } from "../testing/api.ts";
import { type SignedUp, startTestKiln, type TestKiln } from "../testing/harness.ts";
import { usageOf } from "./usage.ts";

/**
 * What the instance administrator does to accounts and orgs (ADR 0034): a password reset mailed for
 * someone, deleting an account or an org, an org in detail, the instance's model usage and cost, and the
 * admin's own audit log (rows without an org, never in an org's log). The first account is the admin.
 */

let kiln: TestKiln;
let admin: SignedUp;
let someone: SignedUp;
const UNKNOWN = "00000000-0000-4000-8000-000000000000";

beforeAll(async () => {
  kiln = await startTestKiln();
  admin = await kiln.signup({ name: "Operator" });
  someone = await kiln.signup({ name: "Someone" });
});
afterAll(() => kiln?.stop());

/** Model calls straight into an org's own llm_calls, as the gateway's call log writes them. */
async function addCalls(
  orgId: string,
  calls: Array<{ input: number; output: number; cost: number | null; daysAgo?: number }>,
) {
  const [org] = await kiln.database.db.select().from(orgs).where(eq(orgs.id, orgId));
  await kiln.database.tenant(org!.schemaName, (tx) =>
    tx.insert(llmCalls).values(
      calls.map((c) => ({
        id: randomUUID(),
        source: "chat",
        provider: "openai",
        model: "gpt-4.1-mini",
        stream: false,
        inputTokens: c.input,
        outputTokens: c.output,
        durationMs: 5,
        costUsd: c.cost,
        status: "ok",
        createdAt: new Date(Date.now() - (c.daysAgo ?? 0) * 86_400_000),
      })),
    ),
  );
}

async function adminLog(): Promise<Array<{ action: string; target: { id: string } | null; data: object }>> {
  const res = await admin.client.get("/api/admin/audit?limit=200");
  expect(res.statusCode, res.body).toBe(200);
  return res.json().events;
}

describe("the instance administrator's controls", () => {
  it("refuses everyone else on every new route", async () => {
    const target = await kiln.signup();
    const org = await newOrg(target, "Theirs");
    const calls: Array<["GET" | "POST" | "DELETE", string]> = [
      ["POST", `/api/admin/users/${target.user.id}/password-reset`],
      ["GET", `/api/admin/users/${target.user.id}/deletion-plan`],
      ["DELETE", `/api/admin/users/${target.user.id}`],
      ["GET", `/api/admin/orgs/${org.id}`],
      ["DELETE", `/api/admin/orgs/${org.id}`],
      ["GET", "/api/admin/usage"],
      ["GET", "/api/admin/audit"],
    ];
    for (const [method, url] of calls) {
      // Even the org's own owner, and the account itself: org roles grant nothing here.
      expectError(await target.client.request(method, url), 403, "not_instance_admin");
      expectError(await kiln.client().request(method, url), 401, "unauthenticated");
    }
    expect((await target.client.get("/api/auth/me")).statusCode).toBe(200);
    expect((await admin.client.get(`/api/admin/orgs/${org.id}`)).statusCode).toBe(200);
  });

  it("sends a password reset: signed out everywhere, a mailed single-use link that works", async () => {
    const person = await kiln.signup({ name: "Forgetful" });
    const phone = kiln.client();
    expect(
      (await phone.post("/api/auth/login", { email: person.user.email, password: person.password }))
        .statusCode,
    ).toBe(200);

    const res = await admin.client.post(`/api/admin/users/${person.user.id}/password-reset`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ email: person.user.email, expiresInMinutes: 30, sessionsRevoked: 2 });
    for (const old of [person.client, phone]) {
      expectError(await old.get("/api/auth/me"), 401, "session_revoked");
    }
    await kiln.services.passwordReset.settled();
    const mail = kiln.mails.sent.findLast(
      (m) => m.to === person.user.email && m.subject === "Reset your Kiln password",
    );
    expect(mail?.text).toContain("administrator of this Kiln");
    const token = /\/reset-password\/(kpr_[A-Za-z0-9_-]+)/.exec(mail?.text ?? "")?.[1];
    expect(token).toBeDefined();

    const browser = kiln.client();
    const used = await browser.post("/api/auth/password-reset/confirm", {
      token,
      password: "a fresh passphrase",
    });
    expect(used.statusCode, used.body).toBe(200);
    expect((await browser.get("/api/auth/me")).json().user.email).toBe(person.user.email);
    // Once only.
    expectError(
      await kiln.client().post("/api/auth/password-reset/confirm", { token, password: "another one here" }),
      400,
      "reset_invalid",
    );

    const log = await adminLog();
    expect(log).toContainEqual(
      expect.objectContaining({
        action: "admin.user_password_reset",
        target: expect.objectContaining({ id: person.user.id }),
      }),
    );
    // Not for an unknown, a deleted or an unverified account.
    expectError(await admin.client.post(`/api/admin/users/${UNKNOWN}/password-reset`), 404, "user_not_found");
    const unverified = await kiln.signup({ verify: false });
    expectError(
      await admin.client.post(`/api/admin/users/${unverified.user.id}/password-reset`),
      403,
      "email_not_verified",
    );
    expectError(await admin.client.post("/api/admin/users/nope/password-reset"), 400, "validation_failed");
  });

  it("deletes an account by its owner's rules: plan, last-owner block, personal org gone, not oneself", async () => {
    const ada = await kiln.signup({ name: "Ada" });
    const bob = await kiln.signup({ name: "Bob" });
    const solo = await newOrg(ada, "Solo");
    const project = (await ada.client.post(`/api/orgs/${solo.slug}/projects`, { name: "Lone app" })).json();
    const ruled = await newOrg(ada, "Ruled");
    await joinByInvitation(ada, ruled, bob, "developer");
    const guest = await newOrg(bob, "Bob's");
    await joinByInvitation(bob, guest, ada, "developer");

    const plan = (await admin.client.get(`/api/admin/users/${ada.user.id}/deletion-plan`)).json();
    const slugs = (list: Array<{ slug: string }>) => list.map((o) => o.slug).sort();
    expect(slugs(plan.deletes)).toEqual([ada.personalOrg.slug, solo.slug].sort());
    expect(slugs(plan.blockedBy)).toEqual([ruled.slug]);
    expect(slugs(plan.leaves)).toEqual([guest.slug]);

    const blocked = await admin.client.delete(`/api/admin/users/${ada.user.id}`);
    expectError(blocked, 409, "last_owner");
    expect(blocked.json().error.details.orgs.map((o: { slug: string }) => o.slug)).toEqual([ruled.slug]);
    expect((await ada.client.get("/api/auth/me")).statusCode).toBe(200);

    expect(
      (await ada.client.patch(`/api/orgs/${ruled.slug}/members/${bob.user.id}`, { role: "owner" }))
        .statusCode,
    ).toBe(200);
    const dir = kiln.storage.projectDir(solo.id, project.id);
    expect(existsSync(dir)).toBe(true);
    const done = await admin.client.delete(`/api/admin/users/${ada.user.id}`);
    expect([done.statusCode, done.json()]).toEqual([200, { ok: true }]);
    expectError(await ada.client.get("/api/auth/me"), 401, "session_revoked");
    expectError(
      await kiln.client().post("/api/auth/login", { email: ada.user.email, password: ada.password }),
      401,
      "invalid_credentials",
    );
    const left = await kiln.database.db.select({ id: orgs.id }).from(orgs);
    const ids = left.map((o) => o.id);
    expect(ids).not.toContain(solo.id);
    expect(ids).not.toContain(ada.personalOrg.orgId);
    expect(ids).toEqual(expect.arrayContaining([ruled.id, guest.id]));
    expect(existsSync(dir)).toBe(false);

    // Gone now: no plan, no second deletion; unknown and malformed ids; never the admin's own account.
    expectError(
      await admin.client.get(`/api/admin/users/${ada.user.id}/deletion-plan`),
      404,
      "user_not_found",
    );
    expectError(await admin.client.delete(`/api/admin/users/${ada.user.id}`), 404, "user_not_found");
    expectError(await admin.client.delete(`/api/admin/users/${UNKNOWN}`), 404, "user_not_found");
    expectError(await admin.client.delete("/api/admin/users/1%27%20OR%201=1"), 400, "validation_failed");
    expectError(await admin.client.delete(`/api/admin/users/${admin.user.id}`), 409, "conflict");
    expect((await admin.client.get("/api/auth/me")).statusCode).toBe(200);

    const entry = (await adminLog()).find((e) => e.action === "admin.user_deleted");
    // The record names the account as it was, before the scrub.
    expect(entry).toMatchObject({ target: { id: ada.user.id, label: ada.user.email } });
    expect(entry?.data).toMatchObject({ email: ada.user.email, name: "Ada" });
  });

  it("shows an org in detail (members, projects, usage of 30 days) and deletes it; never a personal one", async () => {
    const owner = await kiln.signup({ name: "Owner" });
    const dev = await kiln.signup({ name: "Dev" });
    const org = await newOrg(owner, "Detailed");
    await joinByInvitation(owner, org, dev, "developer");
    const project = (await owner.client.post(`/api/orgs/${org.slug}/projects`, { name: "App" })).json();
    await addCalls(org.id, [
      { input: 100, output: 10, cost: 0.25 },
      { input: 50, output: 5, cost: null },
      // Older than 30 days: not in the detail's usage.
      { input: 9_999, output: 9_999, cost: 99, daysAgo: 40 },
    ]);
    const detail = await admin.client.get(`/api/admin/orgs/${org.id}`);
    expect(detail.statusCode, detail.body).toBe(200);
    const body = detail.json();
    expect(body.org).toMatchObject({ id: org.id, slug: org.slug, personal: false, members: 2 });
    expect(body.members).toEqual([
      { userId: owner.user.id, email: owner.user.email, name: "Owner", role: "owner" },
      { userId: dev.user.id, email: dev.user.email, name: "Dev", role: "developer" },
    ]);
    expect(body.projects).toBe(1);
    expect(body.usage).toMatchObject({
      calls: 2,
      inputTokens: 150,
      outputTokens: 15,
      costUsd: 0.25,
      unpricedCalls: 1,
    });

    expectError(await admin.client.get(`/api/admin/orgs/${UNKNOWN}`), 404, "org_not_found");
    expectError(await admin.client.get("/api/admin/orgs/x"), 400, "validation_failed");
    const personal = await admin.client.delete(`/api/admin/orgs/${owner.personalOrg.orgId}`);
    expectError(personal, 409, "org_is_personal");

    const dir = kiln.storage.projectDir(org.id, project.id);
    expect(existsSync(dir)).toBe(true);
    const gone = await admin.client.delete(`/api/admin/orgs/${org.id}`);
    expect([gone.statusCode, gone.json()]).toEqual([200, { ok: true }]);
    expect(existsSync(dir)).toBe(false);
    expectError(await owner.client.get(`/api/orgs/${org.slug}`), 404, "org_not_found");
    expectError(await admin.client.get(`/api/admin/orgs/${org.id}`), 404, "org_not_found");
    expectError(await admin.client.delete(`/api/admin/orgs/${org.id}`), 404, "org_not_found");
    // Its members keep their accounts.
    expect((await dev.client.get("/api/auth/me")).statusCode).toBe(200);
    expect(await adminLog()).toContainEqual(
      expect.objectContaining({
        action: "admin.org_deleted",
        target: expect.objectContaining({ id: org.id }),
      }),
    );
  });

  it("sums the instance's model usage and cost per org, costliest first; orgs without calls are absent", async () => {
    const a = await newOrg(someone, "Usage A");
    const b = await newOrg(someone, "Usage B");
    const idle = await newOrg(someone, "Usage idle");
    await addCalls(a.id, [
      { input: 1_000, output: 100, cost: 0.5 },
      { input: 2_000, output: 200, cost: 0.25 },
      { input: 7, output: 7, cost: 5, daysAgo: 45 },
    ]);
    await addCalls(b.id, [
      { input: 10, output: 1, cost: 2 },
      { input: 20, output: 2, cost: null },
    ]);
    // What the database itself sums, across every org's schema, for the same span.
    const res = await admin.client.get("/api/admin/usage");
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json();
    const row = (id: string) => report.orgs.find((o: { id: string }) => o.id === id);
    expect(row(a.id)).toEqual({
      id: a.id,
      slug: a.slug,
      name: "Usage A",
      calls: 2,
      inputTokens: 3_000,
      outputTokens: 300,
      costUsd: 0.75,
      unpricedCalls: 0,
    });
    expect(row(b.id)).toMatchObject({
      calls: 2,
      inputTokens: 30,
      outputTokens: 3,
      costUsd: 2,
      unpricedCalls: 1,
    });
    expect(row(idle.id)).toBeUndefined();
    const costs = report.orgs.map((o: { costUsd: number }) => o.costUsd);
    expect(costs).toEqual([...costs].sort((x: number, y: number) => y - x));
    expect(report.orgs.indexOf(row(b.id))).toBeLessThan(report.orgs.indexOf(row(a.id)));
    const sum = (k: string) => report.orgs.reduce((n: number, o: Record<string, number>) => n + o[k]!, 0);
    expect(report.totals).toEqual({
      calls: sum("calls"),
      inputTokens: sum("inputTokens"),
      outputTokens: sum("outputTokens"),
      costUsd: sum("costUsd"),
      unpricedCalls: sum("unpricedCalls"),
    });
    expect(report.totals.calls).toBeGreaterThanOrEqual(4);

    // A span that reaches back 60 days counts the old call too.
    const from = new Date(Date.now() - 60 * 86_400_000).toISOString();
    const wide = (await admin.client.get(`/api/admin/usage?from=${encodeURIComponent(from)}`)).json();
    expect(wide.orgs.find((o: { id: string }) => o.id === a.id)).toMatchObject({ calls: 3, costUsd: 5.75 });

    for (const q of [
      "from=yesterday",
      `from=${encodeURIComponent(new Date().toISOString())}&to=${encodeURIComponent(from)}`,
      `from=${encodeURIComponent(new Date(Date.now() - 400 * 86_400_000).toISOString())}`,
      "groupBy=day",
    ]) {
      expectError(await admin.client.get(`/api/admin/usage?${q}`), 400, "validation_failed");
    }
  });

  it("reads the orgs' schemas a batch at a time, and any batch size sums the same", async () => {
    const list = await kiln.database.db.select().from(orgs);
    expect(list.length).toBeGreaterThan(6);
    const from = new Date(Date.now() - 365 * 86_400_000);
    const to = new Date();
    const whole = await kiln.database.transaction((tx) => usageOf(tx, list, from, to));
    const inTwos = await kiln.database.transaction((tx) => usageOf(tx, list, from, to, 2));
    expect(whole.size).toBeGreaterThanOrEqual(2);
    expect(inTwos).toEqual(whole);
    // And what the database sums over every schema itself.
    const expected = await query<{ calls: number }>(
      kiln.database.db,
      sql.raw(
        list.map((o) => `SELECT count(*)::int AS calls FROM "${o.schemaName}".llm_calls`).join(" UNION ALL "),
      ),
    );
    const calls = [...whole.values()].reduce((n, u) => n + u.calls, 0);
    expect(calls).toBe(expected.reduce((n, r) => n + Number(r.calls), 0));
  });

  it("keeps its own log of what admins did, never in an org's log, paged newest first", async () => {
    const target = await kiln.signup({ name: "Target" });
    const org = await newOrg(target, "Watched");
    expect((await admin.client.post(`/api/admin/users/${target.user.id}/suspend`)).statusCode).toBe(200);
    expect((await admin.client.post(`/api/admin/users/${target.user.id}/unsuspend`)).statusCode).toBe(200);
    const policy = await admin.client.put("/api/admin/signup-policy", {
      mode: "domains",
      domains: ["example.org"],
    });
    expect(policy.statusCode, policy.body).toBe(200);
    expect((await admin.client.put("/api/admin/signup-policy", { mode: "open" })).statusCode).toBe(200);

    const log = await adminLog();
    const actions = log.map((e) => e.action);
    expect(actions.slice(0, 4)).toEqual([
      "admin.signup_policy_updated",
      "admin.signup_policy_updated",
      "admin.user_unsuspended",
      "admin.user_suspended",
    ]);
    expect(log[1]!.data).toEqual({
      from: { mode: "open", domains: [] },
      to: { mode: "domains", domains: ["example.org"] },
    });
    expect(log[3]).toMatchObject({
      target: { type: "user", id: target.user.id, label: target.user.email },
      actor: { type: "user", userId: admin.user.id, email: admin.user.email },
    });
    // A failed action records nothing: the record commits with the change or not at all.
    const before = log.length;
    await admin.client.post(`/api/admin/users/${UNKNOWN}/suspend`);
    expect((await adminLog()).length).toBe(before);

    // Paged by seq, newest first.
    const first = (await admin.client.get("/api/admin/audit?limit=2")).json();
    expect(first.events.map((e: { action: string }) => e.action)).toEqual(actions.slice(0, 2));
    const second = (await admin.client.get(`/api/admin/audit?limit=2&before=${first.nextBefore}`)).json();
    expect(second.events.map((e: { action: string }) => e.action)).toEqual(actions.slice(2, 4));
    for (const q of ["limit=0", "limit=201", "before=-1", "org=x"]) {
      expectError(await admin.client.get(`/api/admin/audit?${q}`), 400, "validation_failed");
    }

    // The org's own log and its exports never show an admin row (they have no org).
    const nulls = await kiln.database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(auditEvents)
      .where(sql`${auditEvents.orgId} IS NULL`);
    expect(nulls[0]!.n).toBeGreaterThanOrEqual(4);
    // Suspension signed the owner out; back in, they read their org's log.
    const reader = kiln.client();
    expect(
      (await reader.post("/api/auth/login", { email: target.user.email, password: target.password }))
        .statusCode,
    ).toBe(200);
    const own = (await reader.get(`/api/orgs/${org.slug}/audit/events?limit=200`)).json();
    expect(own.events.length).toBeGreaterThan(0);
    expect(own.events.filter((e: { action: string }) => e.action.startsWith("admin."))).toEqual([]);
    const jsonl = await reader.get(`/api/orgs/${org.slug}/audit/events.jsonl`);
    expect(jsonl.statusCode, jsonl.body).toBe(200);
    expect(jsonl.body).not.toContain('"admin.');
    const csv = await reader.get(`/api/orgs/${org.slug}/audit/events.csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.body).not.toContain("admin.");
    const filtered = await reader.get(`/api/orgs/${org.slug}/audit/events?action=admin`);
    expect([filtered.statusCode, filtered.json().events]).toEqual([200, []]);

    // Retention prunes the instance's rows like any other.
    const old = randomUUID();
    await kiln.database.db.execute(sql`INSERT INTO audit_events (id, org_id, at, action, actor_type)
      VALUES (${old}, NULL, now() - interval '400 days', 'admin.user_suspended', 'system')`);
    expect((await adminLog()).some((e) => (e as unknown as { id: string }).id === old)).toBe(true);
    expect(await kiln.services.audit.prune(365 * 86_400_000)).toBeGreaterThanOrEqual(1);
    const after = await adminLog();
    expect(after.some((e) => (e as unknown as { id: string }).id === old)).toBe(false);
    expect(after.length).toBeGreaterThanOrEqual(4);
  });
});
