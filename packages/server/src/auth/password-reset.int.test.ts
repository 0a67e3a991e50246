import { eq } from "drizzle-orm";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passwordResets, sessions } from "../db/schema-shared.ts";
import { startTestKiln, type TestKiln, uniqueEmail } from "../testing/harness.ts";

/**
 * "Forgot password" (auth/password-reset.ts): a single-use, short-lived link mailed to the verified account
 * using an address; using it sets the password and signs the account out everywhere. Attacked with used,
 * expired, forged and stale links, and with requests that try to learn which addresses have accounts.
 */

const NEW_PASSWORD = "a brand new passphrase";

let kiln: TestKiln;

beforeAll(async () => {
  kiln = await startTestKiln();
});
afterAll(async () => {
  await kiln?.stop();
});

function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect({ status: res.statusCode, code: res.json()?.error?.code }, res.body).toEqual({ status, code });
}

function resetMails(to: string) {
  return kiln.mails.sent.filter((m) => m.to === to && m.subject === "Reset your Kiln password");
}

/** Asks for a reset as a signed-out browser and answers the link's secret from the mail. */
async function requestReset(email: string, ip = "203.0.113.7"): Promise<string> {
  const res = await kiln.client().post("/api/auth/password-reset", { email }, { remoteAddress: ip });
  expect(res.statusCode, res.body).toBe(202);
  await kiln.services.passwordReset.settled();
  const mail = resetMails(email).at(-1);
  if (!mail) throw new Error(`no reset mail to ${email}`);
  const token = /\/reset-password\/(kpr_[A-Za-z0-9_-]+)/.exec(mail.text)?.[1];
  if (!token) throw new Error(`no link in ${mail.text}`);
  return token;
}

describe("password reset", () => {
  it("mails a link; using it sets the password, signs in here and signs every other session out", async () => {
    const { client: laptop, user, password } = await kiln.signup();
    const phone = kiln.client();
    expect((await phone.post("/api/auth/login", { email: user.email, password })).statusCode).toBe(200);

    const token = await requestReset(user.email);
    expect(resetMails(user.email)[0]?.text).toContain("works once, for 30 minutes");

    const browser = kiln.client();
    const res = await browser.post("/api/auth/password-reset/confirm", { token, password: NEW_PASSWORD });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().user.email).toBe(user.email);
    expect((await browser.get("/api/auth/me")).statusCode).toBe(200);

    // Both old sessions are gone, and say why.
    for (const old of [laptop, phone]) {
      expect((await old.get("/api/auth/me")).statusCode).toBe(401);
      expectError(await old.post("/api/auth/refresh"), 401, "session_revoked");
    }
    const revoked = await kiln.database.db.select().from(sessions).where(eq(sessions.userId, user.id));
    expect(revoked.filter((s) => s.revokedReason === "password_reset")).toHaveLength(2);

    // The old password no longer works; the new one does.
    expectError(
      await kiln.client().post("/api/auth/login", { email: user.email, password }),
      401,
      "invalid_credentials",
    );
    const again = await kiln.client().post("/api/auth/login", { email: user.email, password: NEW_PASSWORD });
    expect(again.statusCode).toBe(200);

    // Single use.
    expectError(
      await kiln.client().post("/api/auth/password-reset/confirm", { token, password: "yet another one!" }),
      400,
      "reset_invalid",
    );
  });

  it("answers the same for an unknown address and an unverified account, and mails neither", async () => {
    const unverified = await kiln.signup({ verify: false });
    const unknown = uniqueEmail("nobody");
    const verified = await kiln.signup();
    const answers = [];
    for (const email of [unknown, unverified.user.email, verified.user.email]) {
      const res = await kiln.client().post("/api/auth/password-reset", { email });
      expect(res.statusCode).toBe(202);
      answers.push({ ...res.json(), email: "" });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    await kiln.services.passwordReset.settled();
    expect(resetMails(unknown)).toEqual([]);
    expect(resetMails(unverified.user.email)).toEqual([]);
    expect(resetMails(verified.user.email)).toHaveLength(1);
  });

  it("finds the account whatever the case of the address typed", async () => {
    const { user } = await kiln.signup();
    const res = await kiln.client().post("/api/auth/password-reset", { email: user.email.toUpperCase() });
    expect(res.statusCode).toBe(202);
    await kiln.services.passwordReset.settled();
    expect(resetMails(user.email)).toHaveLength(1);
  });

  it("keeps only the newest link: asking again kills the one before", async () => {
    const { user } = await kiln.signup();
    const first = await requestReset(user.email);
    const second = await requestReset(user.email);
    expect(second).not.toBe(first);
    expectError(
      await kiln.client().post("/api/auth/password-reset/confirm", { token: first, password: NEW_PASSWORD }),
      400,
      "reset_invalid",
    );
    const res = await kiln.client().post("/api/auth/password-reset/confirm", {
      token: second,
      password: NEW_PASSWORD,
    });
    expect(res.statusCode, res.body).toBe(200);
  });

  it("refuses an expired link, and it stays spent", async () => {
    const { user, password } = await kiln.signup();
    const token = await requestReset(user.email);
    await kiln.database.db
      .update(passwordResets)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(passwordResets.userId, user.id));
    const body = { token, password: NEW_PASSWORD };
    expectError(await kiln.client().post("/api/auth/password-reset/confirm", body), 400, "reset_expired");
    expectError(await kiln.client().post("/api/auth/password-reset/confirm", body), 400, "reset_invalid");
    const login = await kiln.client().post("/api/auth/login", { email: user.email, password });
    expect(login.statusCode).toBe(200);
  });

  it("refuses a link mailed to an address the account no longer has", async () => {
    const { client, user, password } = await kiln.signup();
    const token = await requestReset(user.email);
    const moved = await client.patch("/api/auth/me", {
      email: uniqueEmail("moved"),
      currentPassword: password,
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expectError(
      await kiln.client().post("/api/auth/password-reset/confirm", { token, password: NEW_PASSWORD }),
      400,
      "reset_invalid",
    );
  });

  it("refuses forged, garbage and oversized input with 4xx and a code", async () => {
    const { user } = await kiln.signup();
    await requestReset(user.email);
    const client = kiln.client();
    for (const body of [
      { token: "kpr_forged-but-well-formed-token-000000000000", password: NEW_PASSWORD },
      { token: `kpr_${"a".repeat(43)}`, password: NEW_PASSWORD },
    ]) {
      expectError(await client.post("/api/auth/password-reset/confirm", body), 400, "reset_invalid");
    }
    for (const body of [
      {},
      { token: "short", password: NEW_PASSWORD },
      { token: "x".repeat(101), password: NEW_PASSWORD },
      { token: `kpr_${"a".repeat(43)}`, password: "short" },
      { token: `kpr_${"a".repeat(43)}`, password: "p".repeat(257) },
      { token: `kpr_${"a".repeat(43)}`, password: NEW_PASSWORD, userId: user.id },
    ]) {
      expectError(await client.post("/api/auth/password-reset/confirm", body), 400, "validation_failed");
    }
    for (const body of [
      {},
      { email: "not an address" },
      { email: `${"a".repeat(250)}@x.io` },
      { email: [] },
    ]) {
      expectError(await client.post("/api/auth/password-reset", body), 400, "validation_failed");
    }
    expectError(
      await client.post("/api/auth/password-reset", undefined, { raw: "{not json" }),
      400,
      "invalid_json",
    );
  });

  it("limits requests per address and per client", async () => {
    const { user } = await kiln.signup();
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await kiln
        .client()
        .post("/api/auth/password-reset", { email: user.email }, { remoteAddress: `198.51.100.${i + 1}` });
      codes.push(res.statusCode);
    }
    expect(codes.slice(0, 5)).toEqual([202, 202, 202, 202, 202]);
    expect(codes.slice(5)).toEqual([429, 429]);
    await kiln.services.passwordReset.settled();
    expect(resetMails(user.email)).toHaveLength(5);

    // One client guessing tokens runs out too.
    const guesser = kiln.client();
    let last = 0;
    for (let i = 0; i < 21; i++) {
      const res = await guesser.post(
        "/api/auth/password-reset/confirm",
        { token: `kpr_guess_${i}_${"x".repeat(30)}`, password: NEW_PASSWORD },
        { remoteAddress: "192.0.2.99" },
      );
      last = res.statusCode;
    }
    expect(last).toBe(429);
  });
});
