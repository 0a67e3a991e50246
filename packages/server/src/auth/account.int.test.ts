import { ACCESS_COOKIE, REFRESH_COOKIE } from "@kiln/protocol";
import { eq } from "drizzle-orm";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessions } from "../db/schema-shared.ts";
import { startTestKiln, type TestKiln, uniqueEmail } from "../testing/harness.ts";

const MAX_ATTEMPTS = 3;
const PASSWORD = "correct horse battery";

let kiln: TestKiln;

beforeAll(async () => {
  kiln = await startTestKiln({ env: { KILN_LOGIN_MAX_ATTEMPTS: String(MAX_ATTEMPTS) } });
});
afterAll(async () => {
  await kiln?.stop();
});

function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect({ status: res.statusCode, code: res.json()?.error?.code }, res.body).toEqual({ status, code });
}

/** The same user signed in a second time: another browser, another session. */
async function secondSession(email: string, password = PASSWORD) {
  const client = kiln.client();
  const res = await client.post(
    "/api/auth/login",
    { email, password },
    { headers: { "user-agent": "Phone/1" } },
  );
  expect(res.statusCode, res.body).toBe(200);
  return client;
}

describe("PATCH /api/auth/me", () => {
  it("changes the name, trimmed; me shows it", async () => {
    const { client } = await kiln.signup();
    const res = await client.patch("/api/auth/me", { name: "  Ada Lovelace " });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().name).toBe("Ada Lovelace");
    expect((await client.get("/api/auth/me")).json().user.name).toBe("Ada Lovelace");
  });

  it("refuses hostile names and addresses with 400 and changes nothing", async () => {
    const { client, user } = await kiln.signup();
    for (const body of [
      { name: "x".repeat(101) },
      { name: "a\u0000b" },
      { name: "   " },
      { email: "not-an-address", currentPassword: PASSWORD },
      { email: `${"a".repeat(250)}@example.com`, currentPassword: PASSWORD },
      {},
      { name: "ok", isAdmin: true },
    ]) {
      expectError(await client.patch("/api/auth/me", body), 400, "validation_failed");
    }
    const me = (await client.get("/api/auth/me")).json().user;
    expect({ name: me.name, email: me.email }).toEqual({ name: "Test User", email: user.email });
  });

  it("changes the email with the current password: unverified, a new code mailed, and verifying it works", async () => {
    const { client } = await kiln.signup();
    const email = uniqueEmail("moved");
    const res = await client.patch("/api/auth/me", { email: email.toUpperCase(), currentPassword: PASSWORD });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ email, emailVerified: false });
    const { code } = kiln.verificationMail(email);
    const verified = await client.post("/api/auth/verify-email/code", { code });
    expect(verified.json()).toEqual({ email, emailVerified: true });
    // Log-in now works with the new address.
    expect((await kiln.client().post("/api/auth/login", { email, password: PASSWORD })).statusCode).toBe(200);
  });

  it("needs the current password for an email change: missing 400, wrong 403 wrong_password", async () => {
    const { client, user } = await kiln.signup();
    const email = uniqueEmail("moved");
    expectError(await client.patch("/api/auth/me", { email }), 400, "bad_request");
    expectError(
      await client.patch("/api/auth/me", { email, currentPassword: "wrong password" }),
      403,
      "wrong_password",
    );
    expect((await client.get("/api/auth/me")).json().user).toMatchObject({
      email: user.email,
      emailVerified: true,
    });
  });

  it("refuses an address another account has verified with 409 email_taken", async () => {
    const other = await kiln.signup();
    const { client } = await kiln.signup();
    expectError(
      await client.patch("/api/auth/me", { email: other.user.email, currentPassword: PASSWORD }),
      409,
      "email_taken",
    );
  });

  it("needs the CSRF header with cookies", async () => {
    const { client } = await kiln.signup();
    expectError(await client.patch("/api/auth/me", { name: "Eve" }, { noCsrf: true }), 403, "csrf_failed");
    expect((await client.get("/api/auth/me")).json().user.name).toBe("Test User");
  });
});

describe("POST /api/auth/password", () => {
  it("sets the new password, keeps this session and signs out the others (access and refresh)", async () => {
    const { client, user } = await kiln.signup();
    const other = await secondSession(user.email);
    const res = await client.post("/api/auth/password", {
      currentPassword: PASSWORD,
      newPassword: "a brand new secret",
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ revoked: 1 });
    expect((await client.get("/api/auth/me")).statusCode).toBe(200);
    expectError(await other.get("/api/auth/me"), 401, "session_revoked");
    expectError(await other.post("/api/auth/refresh"), 401, "session_revoked");
    const old = await kiln.client().post("/api/auth/login", { email: user.email, password: PASSWORD });
    expectError(old, 401, "invalid_credentials");
    const fresh = await kiln
      .client()
      .post("/api/auth/login", { email: user.email, password: "a brand new secret" });
    expect(fresh.statusCode).toBe(200);
  });

  it("refuses a wrong current password with 403 wrong_password, then rate-limits with 429", async () => {
    const { client, user } = await kiln.signup();
    const other = await secondSession(user.email);
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      expectError(
        await client.post("/api/auth/password", { currentPassword: "guess", newPassword: "another secret" }),
        403,
        "wrong_password",
      );
    }
    const limited = await client.post("/api/auth/password", {
      currentPassword: PASSWORD,
      newPassword: "another secret",
    });
    expectError(limited, 429, "rate_limited");
    expect(limited.headers["retry-after"]).toBeDefined();
    // Nothing changed: the old password and the other session still work.
    expect((await other.get("/api/auth/me")).statusCode).toBe(200);
    expect(
      (await kiln.client().post("/api/auth/login", { email: user.email, password: PASSWORD })).statusCode,
    ).toBe(200);
  });

  it("holds the new password to the sign-up rules", async () => {
    const { client } = await kiln.signup();
    for (const newPassword of ["short", "x".repeat(257)]) {
      expectError(
        await client.post("/api/auth/password", { currentPassword: PASSWORD, newPassword }),
        400,
        "validation_failed",
      );
    }
  });

  it("needs the CSRF header with cookies", async () => {
    const { client } = await kiln.signup();
    const res = await client.post(
      "/api/auth/password",
      { currentPassword: PASSWORD, newPassword: "a brand new secret" },
      { noCsrf: true },
    );
    expectError(res, 403, "csrf_failed");
  });
});

describe("sessions", () => {
  it("lists the user's live sessions with this one marked, newest use first", async () => {
    const { client, user } = await kiln.signup();
    await secondSession(user.email);
    const list = (await client.get("/api/auth/sessions")).json();
    expect(list).toHaveLength(2);
    const current = list.filter((s: { current: boolean }) => s.current);
    expect(current).toHaveLength(1);
    const phone = list.find((s: { current: boolean }) => !s.current);
    expect(phone.userAgent).toBe("Phone/1");
    expect(phone.ip).toEqual(expect.any(String));
    expect(Date.parse(list[0].lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(list[1].lastUsedAt));
  });

  it("moves lastUsedAt on refresh", async () => {
    const { client } = await kiln.signup();
    const [before] = (await client.get("/api/auth/sessions")).json();
    await kiln.database.db
      .update(sessions)
      .set({ lastUsedAt: new Date(Date.now() - 3_600_000) })
      .where(eq(sessions.id, before.id));
    expect((await client.post("/api/auth/refresh")).statusCode).toBe(200);
    const [after] = (await client.get("/api/auth/sessions")).json();
    expect(Date.now() - Date.parse(after.lastUsedAt)).toBeLessThan(60_000);
  });

  it("revoke-others signs out every other session at once, access cookie and refresh alike; this one stays", async () => {
    const { client, user } = await kiln.signup();
    const a = await secondSession(user.email);
    const b = await secondSession(user.email);
    const res = await client.post("/api/auth/sessions/revoke-others");
    expect(res.json()).toEqual({ revoked: 2 });
    for (const other of [a, b]) {
      // The access cookie is still within its lifetime: it is refused because its session row is revoked.
      expect(other.cookies.get(ACCESS_COOKIE)).toBeDefined();
      expectError(await other.get("/api/auth/me"), 401, "session_revoked");
      expect(other.cookies.get(REFRESH_COOKIE)).toBeDefined();
      expectError(await other.post("/api/auth/refresh"), 401, "session_revoked");
    }
    expect((await client.get("/api/auth/me")).statusCode).toBe(200);
    expect((await client.get("/api/auth/sessions")).json()).toHaveLength(1);
  });

  it("revokes one session by id; another user's session id or a revoked one is 404", async () => {
    const { client, user } = await kiln.signup();
    const phone = await secondSession(user.email);
    const stranger = await kiln.signup();
    const [theirs] = (await stranger.client.get("/api/auth/sessions")).json();
    expectError(await client.post(`/api/auth/sessions/${theirs.id}/revoke`), 404, "session_not_found");
    expect((await stranger.client.get("/api/auth/me")).statusCode).toBe(200);

    const mine = (await client.get("/api/auth/sessions")).json();
    const phoneId = mine.find((s: { current: boolean }) => !s.current).id;
    expect((await client.post(`/api/auth/sessions/${phoneId}/revoke`)).json()).toEqual({ ok: true });
    expectError(await phone.get("/api/auth/me"), 401, "session_revoked");
    expectError(await client.post(`/api/auth/sessions/${phoneId}/revoke`), 404, "session_not_found");
    expectError(await client.post("/api/auth/sessions/not-a-uuid/revoke"), 400, "validation_failed");
  });

  it("needs the CSRF header with cookies", async () => {
    const { client, user } = await kiln.signup();
    const phone = await secondSession(user.email);
    expectError(
      await client.post("/api/auth/sessions/revoke-others", undefined, { noCsrf: true }),
      403,
      "csrf_failed",
    );
    expect((await phone.get("/api/auth/me")).statusCode).toBe(200);
  });
});
