/**
 * Claiming someone else's email address (issue #11, finding 7). Sign-up used to take any address on
 * trust: whoever typed bob@x first could accept every invitation sent to bob@x, and kept Bob himself
 * from signing up. An address is now Bob's only once a code or link mailed to it comes back.
 */
import { createHash } from "node:crypto";
import { eq } from "drizzle-orm";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODE_ATTEMPTS } from "../auth/email-verification.ts";
import { emailVerifications, invitations, memberships, orgs, users } from "../db/schema-shared.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueEmail, uniqueSlug } from "../testing/harness.ts";

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln();
});
afterAll(() => kiln?.stop());

const PASSWORD = "correct horse battery";

function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect({ status: res.statusCode, code: res.json()?.error?.code }, res.body).toEqual({ status, code });
}

async function teamInviting(email: string): Promise<{ owner: SignedUp; slug: string; token: string }> {
  const owner = await kiln.signup();
  const slug = uniqueSlug("claim");
  expect((await owner.client.post("/api/orgs", { name: "Claimed Team", slug })).statusCode).toBe(201);
  const res = await owner.client.post(`/api/orgs/${slug}/invitations`, { email, role: "admin" });
  expect(res.statusCode, res.body).toBe(201);
  return { owner, slug, token: new URL(res.json().url).pathname.split("/").at(-1)! };
}

async function memberEmails(owner: SignedUp, slug: string): Promise<string[]> {
  const res = await owner.client.get(`/api/orgs/${slug}/members`);
  expect(res.statusCode).toBe(200);
  return res.json().map((m: { email: string }) => m.email);
}

const login = (email: string, password = PASSWORD) =>
  kiln.client().post("/api/auth/login", { email, password });

describe("an account that has not proven its address", () => {
  it("cannot accept an invitation sent to that address", async () => {
    const bob = uniqueEmail("bob");
    const { owner, slug, token } = await teamInviting(bob);
    const attacker = await kiln.signup({ email: bob, password: "attacker password", verify: false });

    const accepted = await attacker.client.post(`/api/invitations/${token}/accept`);
    expectError(accepted, 403, "email_not_verified");
    expect(await memberEmails(owner, slug)).not.toContain(bob);
    // The studio's state says why.
    expect((await attacker.client.get("/api/auth/me")).json().user.emailVerified).toBe(false);
  });

  it("cannot send invitations either (they would mail its words to any address)", async () => {
    const unverified = await kiln.signup({ verify: false });
    // Its own org works as any other (onboarding stays instant); inviting waits for the verification.
    const slug = uniqueSlug("unv");
    expect((await unverified.client.post("/api/orgs", { name: "Mine", slug })).statusCode).toBe(201);
    expectError(
      await unverified.client.post(`/api/orgs/${slug}/invitations`, { email: uniqueEmail(), role: "viewer" }),
      403,
      "email_not_verified",
    );
  });

  it("does not keep the real owner out: Bob signs up after the squatter, verifies, accepts; the squatter is out", async () => {
    const bob = uniqueEmail("bob");
    const squatter = await kiln.signup({ email: bob, password: "squatter password", verify: false });
    const { owner, slug, token } = await teamInviting(bob);

    // Bob signs up with his own address although an account already names it.
    const real = await kiln.signup({ email: bob, password: PASSWORD, verify: false });
    expect(real.user.id).not.toBe(squatter.user.id);
    // Bob confirms through the link, in another browser without a session.
    const { token: link } = kiln.verificationMail(bob);
    const verified = await kiln.client().post("/api/auth/verify-email", { token: link });
    expect(verified.statusCode, verified.body).toBe(200);
    expect(verified.json()).toEqual({ email: bob, emailVerified: true });

    expect((await real.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
    expect(await memberEmails(owner, slug)).toEqual(expect.arrayContaining([bob]));

    // The squatter is signed out everywhere, cannot sign back in with its password, nor accept anything.
    expectError(await squatter.client.get("/api/auth/me"), 401, "session_revoked");
    expectError(await login(bob, "squatter password"), 401, "invalid_credentials");
    expectError(
      await kiln.client().post("/api/auth/signup", { email: bob, password: "another one" }),
      409,
      "email_taken",
    );
    // Bob's password opens Bob's account.
    const bobLogin = await login(bob);
    expect(bobLogin.statusCode).toBe(200);
    expect(bobLogin.json().user).toMatchObject({ id: real.user.id, emailVerified: true });
  });

  it("loses what an invitation to the address got it before verification existed, once the owner verifies", async () => {
    const bob = uniqueEmail("bob");
    const { owner, slug, token } = await teamInviting(bob);
    const squatter = await kiln.signup({ email: bob, password: "squatter password", verify: false });
    // An acceptance made by the old code: membership and a spent invitation, by an unverified account.
    const [org] = await kiln.database.db.select({ id: orgs.id }).from(orgs).where(eq(orgs.slug, slug));
    await kiln.database.db
      .insert(memberships)
      .values({ orgId: org!.id, userId: squatter.user.id, role: "admin" });
    await kiln.database.db
      .update(invitations)
      .set({ acceptedAt: new Date(), acceptedBy: squatter.user.id })
      .where(eq(invitations.orgId, org!.id));
    expect(await memberEmails(owner, slug)).toContain(bob);
    expect(token).toMatch(/^inv_/);

    await kiln.signup({ email: bob, password: PASSWORD });
    const rows = await kiln.database.db
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(eq(memberships.orgId, org!.id));
    expect(rows.map((r) => r.userId)).not.toContain(squatter.user.id);
  });

  it("lets each unverified account naming one address log in with its own password, and only its own", async () => {
    const shared = uniqueEmail("shared");
    const owner = await kiln.signup({ email: shared, password: PASSWORD, verify: false });
    const squatter = await kiln.signup({ email: shared, password: "squatter password", verify: false });
    expect((await login(shared)).json().user.id).toBe(owner.user.id);
    expect((await login(shared, "squatter password")).json().user.id).toBe(squatter.user.id);
    expectError(await login(shared, "neither of them"), 401, "invalid_credentials");
  });

  it("log-in says the same for an address nobody holds and for one only unverified accounts name", async () => {
    const named = uniqueEmail("named");
    await kiln.signup({ email: named, verify: false });
    const unknown = await login(uniqueEmail("nobody"), "wrong password");
    const wrong = await login(named, "wrong password");
    expect(wrong.statusCode).toBe(unknown.statusCode);
    expect(wrong.json()).toEqual(unknown.json());
  });
});

describe("verification codes and links", () => {
  it("refuses a wrong code, counts it, and keeps only a keyed hash of the code", async () => {
    const user = await kiln.signup({ verify: false });
    const { code } = kiln.verificationMail(user.user.email);
    const wrong = code === "000000" ? "000001" : "000000";
    expectError(
      await user.client.post("/api/auth/verify-email/code", { code: wrong }),
      400,
      "verification_invalid",
    );
    const [row] = await kiln.database.db
      .select()
      .from(emailVerifications)
      .where(eq(emailVerifications.userId, user.user.id));
    expect(row!.codeAttempts).toBe(1);
    expect(row!.codeHash).not.toContain(code);
    expect(row!.codeHash).not.toBe(createHash("sha256").update(code).digest("base64url"));
    expect((await user.client.get("/api/auth/me")).json().user.emailVerified).toBe(false);
  });

  it("takes a code once: reusing it, or the link of the same mail, is refused", async () => {
    const user = await kiln.signup({ verify: false });
    const { code, token } = kiln.verificationMail(user.user.email);
    expect((await user.client.post("/api/auth/verify-email/code", { code })).statusCode).toBe(200);
    expectError(await user.client.post("/api/auth/verify-email/code", { code }), 400, "verification_invalid");
    expectError(await kiln.client().post("/api/auth/verify-email", { token }), 400, "verification_invalid");
  });

  it("refuses an expired code and an expired link", async () => {
    const user = await kiln.signup({ verify: false });
    const { code, token } = kiln.verificationMail(user.user.email);
    await kiln.database.db
      .update(emailVerifications)
      .set({ codeExpiresAt: new Date(Date.now() - 1000) })
      .where(eq(emailVerifications.userId, user.user.id));
    expectError(await user.client.post("/api/auth/verify-email/code", { code }), 410, "verification_expired");
    // The link lives longer than the code…
    await kiln.database.db
      .update(emailVerifications)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(emailVerifications.userId, user.user.id));
    // …but not for ever.
    expectError(await kiln.client().post("/api/auth/verify-email", { token }), 410, "verification_expired");
    expect((await user.client.get("/api/auth/me")).json().user.emailVerified).toBe(false);
  });

  it("refuses another user's code, and a code sent before the newest one", async () => {
    const alice = await kiln.signup({ verify: false });
    const mallory = await kiln.signup({ verify: false });
    const aliceCode = kiln.verificationMail(alice.user.email).code;
    const malloryCode = kiln.verificationMail(mallory.user.email).code;
    if (aliceCode !== malloryCode) {
      expectError(
        await mallory.client.post("/api/auth/verify-email/code", { code: aliceCode }),
        400,
        "verification_invalid",
      );
    }
    expect((await alice.client.get("/api/auth/me")).json().user.emailVerified).toBe(false);

    // A resend replaces the code: the old one no longer works, the new one does.
    const old = aliceCode;
    expect((await alice.client.post("/api/auth/verify-email/send")).statusCode).toBe(200);
    const fresh = kiln.verificationMail(alice.user.email).code;
    if (old !== fresh) {
      expectError(
        await alice.client.post("/api/auth/verify-email/code", { code: old }),
        400,
        "verification_invalid",
      );
    }
    expect((await alice.client.post("/api/auth/verify-email/code", { code: fresh })).statusCode).toBe(200);
    expect((await alice.client.get("/api/auth/me")).json().user.emailVerified).toBe(true);
    expect((await mallory.client.get("/api/auth/me")).json().user.emailVerified).toBe(false);
  });

  it("kills a code after a few wrong tries and rate-limits guessing and resending", async () => {
    const user = await kiln.signup({ verify: false });
    const { code } = kiln.verificationMail(user.user.email);
    const wrong = code === "999999" ? "999998" : "999999";
    for (let i = 0; i < CODE_ATTEMPTS; i++) {
      expectError(
        await user.client.post("/api/auth/verify-email/code", { code: wrong }),
        400,
        "verification_invalid",
      );
    }
    // The right code is now useless: a brute force has CODE_ATTEMPTS tries per mailed code.
    expectError(await user.client.post("/api/auth/verify-email/code", { code }), 410, "verification_expired");
    // And guessing across fresh codes hits the per-account limit (10 per quarter hour).
    let limited: LightMyRequestResponse | undefined;
    for (let i = 0; i < 10 && !limited; i++) {
      const res = await user.client.post("/api/auth/verify-email/code", { code: wrong });
      if (res.statusCode === 429) limited = res;
    }
    expect(limited).toBeDefined();
    expectError(limited!, 429, "rate_limited");
    expect(limited!.headers["retry-after"]).toBeDefined();

    // Resending: one mail at sign-up plus four more per hour.
    const sends = [];
    for (let i = 0; i < 5; i++)
      sends.push((await user.client.post("/api/auth/verify-email/send")).statusCode);
    expect(sends).toEqual([200, 200, 200, 200, 429]);
    expect((await user.client.get("/api/auth/me")).json().user.emailVerified).toBe(false);
  });

  it("does not flood an address's inbox however many sign-ups name it", async () => {
    const victim = uniqueEmail("victim");
    const mailsTo = () => kiln.mails.sent.filter((m) => m.to === victim).length;
    for (let i = 0; i < 11; i++) {
      const res = await kiln.client().post("/api/auth/signup", { email: victim, password: PASSWORD });
      expect(res.statusCode).toBe(201);
    }
    expect(mailsTo()).toBe(10);
  });

  it("does not mail a code to an address that is already verified", async () => {
    const user = await kiln.signup();
    expectError(await user.client.post("/api/auth/verify-email/send"), 409, "email_already_verified");
  });
});

describe("hostile input", () => {
  it("answers garbage, oversized and unauthenticated requests with a 4xx code", async () => {
    const user = await kiln.signup({ verify: false });
    const codeCases: unknown[] = [
      {},
      { code: "" },
      { code: "abcdef" },
      { code: "1234567" },
      { code: 123456 },
      { code: "1".repeat(100_000) },
      { code: "123456", extra: true },
      { code: ["123456"] },
      null,
    ];
    for (const body of codeCases) {
      const res = await user.client.post("/api/auth/verify-email/code", body);
      expect(res.statusCode, JSON.stringify(body)?.slice(0, 80)).toBe(400);
      expect(res.json().error.code).toMatch(/^(validation_failed|invalid_json|bad_request)$/);
    }
    const linkCases: unknown[] = [{}, { token: "short" }, { token: "x".repeat(101) }, { token: 42 }];
    for (const body of linkCases) {
      expectError(await kiln.client().post("/api/auth/verify-email", body), 400, "validation_failed");
    }
    expectError(
      await kiln.client().post("/api/auth/verify-email", { token: "kev_not-a-real-token-at-all" }),
      400,
      "verification_invalid",
    );
    expect(
      (await user.client.post("/api/auth/verify-email/code", undefined, { raw: "{not json" })).statusCode,
    ).toBe(400);
    expectError(
      await kiln.client().post("/api/auth/verify-email/code", { code: "123456" }),
      401,
      "unauthenticated",
    );
    expectError(await kiln.client().post("/api/auth/verify-email/send"), 401, "unauthenticated");
    // Nothing above verified anyone.
    const [row] = await kiln.database.db.select().from(users).where(eq(users.id, user.user.id));
    expect(row!.emailVerifiedAt).toBeNull();
  });
});
