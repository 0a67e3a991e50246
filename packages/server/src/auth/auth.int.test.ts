import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { ACCESS_COOKIE, CSRF_COOKIE, CSRF_HEADER, ErrorEnvelope, REFRESH_COOKIE } from "@kiln/protocol";
import { eq, sql } from "drizzle-orm";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { decodeJwt, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../db/client.ts";
import { apiTokens, sessions, users } from "../db/schema-shared.ts";
import { decodeKey } from "../secrets/master-key.ts";
import { deriveKey } from "../secrets/secret-box.ts";
import type { TestClient } from "../testing/client.ts";
import { startTestKiln, type TestKiln, uniqueEmail, uniqueSlug } from "../testing/harness.ts";
import { sessionCookieNames } from "./cookies.ts";
import { AccessTokens } from "./tokens.ts";

const MAX_ATTEMPTS = 3;
const PASSWORD = "correct horse battery";

/** Lenient refresh grace, a small login budget. */
let kiln: TestKiln;
/** Same database, but a refresh token presented twice is reuse at once (no grace). */
let strict: TestKiln;

beforeAll(async () => {
  kiln = await startTestKiln({
    env: {
      KILN_LOGIN_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
      KILN_REFRESH_REUSE_GRACE_SECONDS: "300",
      KILN_ACCESS_TOKEN_TTL_SECONDS: "600",
    },
  });
  strict = await startTestKiln({ database: kiln.database, env: { KILN_REFRESH_REUSE_GRACE_SECONDS: "0" } });
});
afterAll(async () => {
  await strict?.stop();
  await kiln?.stop();
});

type Res = LightMyRequestResponse;

/** Asserts the status, and that the body is the error envelope with this code. */
function expectError(res: Res, status: number, code: string) {
  expect({ status: res.statusCode, code: res.json()?.error?.code }, res.body).toEqual({ status, code });
  expect(ErrorEnvelope.safeParse(res.json()).success).toBe(true);
}

function cookie(res: Res, name: string) {
  return (
    res.cookies as Array<{
      name: string;
      value: string;
      path?: string;
      expires?: Date;
      httpOnly?: boolean;
      secure?: boolean;
      sameSite?: string;
    }>
  ).find((c) => c.name === name);
}

/** A raw request with exactly these cookies and headers, for what a browser (or attacker) would send. */
function send(
  k: TestKiln,
  method: InjectOptions["method"],
  url: string,
  opts: {
    cookies?: Record<string, string>;
    headers?: Record<string, string>;
    body?: unknown;
    remoteAddress?: string;
  } = {},
) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.cookies)
    headers.cookie = Object.entries(opts.cookies)
      .map(([n, v]) => `${n}=${v}`)
      .join("; ");
  return k.app.inject({
    method,
    url,
    headers,
    ...(opts.body === undefined ? {} : { payload: opts.body as InjectOptions["payload"] }),
    ...(opts.remoteAddress ? { remoteAddress: opts.remoteAddress } : {}),
  });
}

const jar = (client: TestClient) => ({
  at: client.cookies.get(ACCESS_COOKIE)?.value,
  rt: client.cookies.get(REFRESH_COOKIE)?.value,
  csrf: client.cookies.get(CSRF_COOKIE)?.value,
});

function claimsOf(accessToken: string) {
  const { sub, sid } = decodeJwt(accessToken);
  return { userId: sub as string, sessionId: sid as string };
}

/** The server's own JWT key, derived from the master key the harness passed in KILN_SECRET_KEY. */
function jwtKey(k: TestKiln) {
  return deriveKey(decodeKey(k.config.secretKey!, "KILN_SECRET_KEY"), "jwt");
}

function b64(value: unknown) {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

async function userRow(email: string) {
  return kiln.database.db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, email.toLowerCase()));
}

async function sessionRow(sessionId: string) {
  const [row] = await kiln.database.db.select().from(sessions).where(eq(sessions.id, sessionId));
  return row!;
}

async function login(k: TestKiln, email: string, password = PASSWORD) {
  const client = k.client();
  const res = await client.post("/api/auth/login", { email, password });
  return { client, res };
}

describe("signup", () => {
  it("creates the user, a personal org they own, a session and three cookies", async () => {
    const email = uniqueEmail("signup");
    const client = kiln.client();
    const res = await client.post(
      "/api/auth/signup",
      { email, password: PASSWORD, name: "Ada" },
      { headers: { "user-agent": `ua-${"x".repeat(1000)}` } },
    );
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.user).toMatchObject({ email, name: "Ada" });
    expect(res.body).not.toContain("argon2");
    expect(res.body).not.toContain("kiln_rt_");

    const at = cookie(res, ACCESS_COOKIE)!;
    expect(at).toMatchObject({ value: body.accessToken, httpOnly: true, sameSite: "Lax", path: "/" });
    expect(at.secure).toBeFalsy();
    expect(at.expires!.toISOString()).toBe(new Date(body.accessTokenExpiresAt).toISOString());
    const ttl = new Date(body.accessTokenExpiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(590_000);
    expect(ttl).toBeLessThanOrEqual(600_000);

    const rt = cookie(res, REFRESH_COOKIE)!;
    expect(rt.value).toMatch(/^kiln_rt_[A-Za-z0-9_-]{43}$/);
    expect(rt).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/api/auth" });
    expect(rt.secure).toBeFalsy();
    // 30 days by default.
    expect(rt.expires!.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);

    const csrf = cookie(res, CSRF_COOKIE)!;
    expect(csrf).toMatchObject({ value: body.csrfToken, sameSite: "Lax", path: "/" });
    expect(csrf.httpOnly).toBeFalsy();
    expect(csrf.secure).toBeFalsy();

    const me = await client.get("/api/auth/me");
    expect(me.statusCode).toBe(200);
    expect(me.json().user).toEqual(body.user);
    const personal = me.json().orgs.filter((o: { personal: boolean }) => o.personal);
    expect(personal).toHaveLength(1);
    expect(personal[0]).toMatchObject({ role: "owner", name: "Ada's workspace" });

    const session = await sessionRow(claimsOf(body.accessToken).sessionId);
    expect(session).toMatchObject({ userId: body.user.id, revokedAt: null, ip: "127.0.0.1" });
    expect(session.userAgent).toHaveLength(300);
  });

  it("defaults the name to the email's local part", async () => {
    const email = uniqueEmail("noname");
    const res = await kiln.client().post("/api/auth/signup", { email, password: PASSWORD });
    expect(res.statusCode).toBe(201);
    expect(res.json().user.name).toBe(email.split("@")[0]);
  });

  it("stores an argon2id hash, never the password", async () => {
    const email = uniqueEmail("hash");
    await kiln.signup({ email, password: PASSWORD });
    const [row] = await userRow(email);
    expect(row!.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row!.passwordHash).not.toContain(PASSWORD);
  });

  it("treats email case-insensitively: stored lowercased, a differently-cased duplicate of a verified address is 409 email_taken", async () => {
    const lower = uniqueEmail("case");
    const mixed = lower.replace("case", "CaSe").replace("example.com", "Example.COM");
    const client = kiln.client();
    const first = await client.post("/api/auth/signup", { email: mixed, password: PASSWORD });
    expect(first.statusCode).toBe(201);
    expect(first.json().user.email).toBe(lower);
    const { code } = kiln.verificationMail(lower);
    expect((await client.post("/api/auth/verify-email/code", { code })).statusCode).toBe(200);

    const dup = await kiln
      .client()
      .post("/api/auth/signup", { email: lower.toUpperCase(), password: PASSWORD });
    expectError(dup, 409, "email_taken");
    expect(await userRow(lower)).toHaveLength(1);

    // And log-in works with any casing.
    expect((await login(kiln, lower.toUpperCase())).res.statusCode).toBe(200);
  });

  it("lets exactly one of two accounts verifying the same email at once have it", async () => {
    const email = uniqueEmail("race");
    const clients = [kiln.client(), kiln.client()];
    for (const [i, client] of clients.entries()) {
      const address = i === 0 ? email : email.toUpperCase();
      expect((await client.post("/api/auth/signup", { email: address, password: PASSWORD })).statusCode).toBe(
        201,
      );
    }
    // Each sign-up mailed its own code; the captured mails are in order.
    const codes = kiln.mails.sent
      .filter((m) => m.to === email && m.subject.includes("verification code"))
      .slice(-2)
      .map((m) => /code is (\d{6})/.exec(m.text)![1]!);
    const results = await Promise.all(
      clients.map((client, i) => client.post("/api/auth/verify-email/code", { code: codes[i] })),
    );
    // The loser either collided on the verified-address index, came second and finds itself displaced
    // (its session revoked), or passed the session check just before the winner's displacement removed its
    // pending code.
    const loser = results.find((r) => r.statusCode !== 200)!;
    expect(results.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect([`409 email_taken`, `401 session_revoked`, `400 verification_invalid`]).toContain(
      `${loser.statusCode} ${loser.json().error.code}`,
    );
    const rows = await userRow(email);
    expect(rows).toHaveLength(2);
    expect(rows.filter((r) => r.emailVerifiedAt !== null)).toHaveLength(1);
  });

  it("gives two people with the same local part, signing up at once, each a personal org", async () => {
    const local = `twin-${randomBytes(4).toString("hex")}`;
    const clients = [kiln.client(), kiln.client(), kiln.client()];
    const results = await Promise.all(
      clients.map((client, i) =>
        client.post("/api/auth/signup", { email: `${local}@d${i}.example.com`, password: PASSWORD }),
      ),
    );
    expect(results.map((r) => r.statusCode)).toEqual([201, 201, 201]);
    const slugs = await Promise.all(
      clients.map(async (client) => {
        const orgs = (await client.get("/api/auth/me")).json().orgs;
        expect(orgs).toMatchObject([{ personal: true, role: "owner" }]);
        return orgs[0].slug as string;
      }),
    );
    expect(new Set(slugs).size).toBe(3);
    expect(slugs).toContain(local);
  });

  it("is refused with 403 when KILN_SIGNUP_OPEN=false, while log-in still works", async () => {
    const closed = await startTestKiln({ database: kiln.database, env: { KILN_SIGNUP_OPEN: "false" } });
    try {
      const email = uniqueEmail("closed");
      const res = await closed.client().post("/api/auth/signup", { email, password: PASSWORD });
      expectError(res, 403, "signup_not_allowed");
      expect(cookie(res, ACCESS_COOKIE)).toBeUndefined();
      expect(await userRow(email)).toHaveLength(0);

      const existing = await kiln.signup();
      expect((await login(closed, existing.user.email)).res.statusCode).toBe(200);
    } finally {
      await closed.stop();
    }
  });

  it("marks every cookie Secure when KILN_PUBLIC_URL is https, including the ones log-out clears", async () => {
    const https = await startTestKiln({
      database: kiln.database,
      env: { KILN_PUBLIC_URL: "https://kiln.example.com" },
    });
    try {
      const client = https.client();
      const res = await client.post("/api/auth/signup", { email: uniqueEmail("tls"), password: PASSWORD });
      expect(res.statusCode).toBe(201);
      // Over https they are __Host- cookies (security/cookie-tossing.int.test.ts).
      const names = sessionCookieNames(true);
      for (const name of [names.access, names.refresh, names.csrf]) {
        expect(cookie(res, name)?.secure, name).toBe(true);
      }
      const out = await client.post("/api/auth/logout");
      expect(out.statusCode).toBe(200);
      for (const name of [names.access, names.refresh, names.csrf]) {
        expect(cookie(out, name)?.secure, name).toBe(true);
      }
    } finally {
      await https.stop();
    }
  });
});

describe("login", () => {
  it("issues a new session for the right password", async () => {
    const { user } = await kiln.signup();
    const { client, res } = await login(kiln, user.email);
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toEqual(user);
    expect(cookie(res, ACCESS_COOKIE)?.value).toBe(res.json().accessToken);
    expect(cookie(res, REFRESH_COOKIE)?.value).toMatch(/^kiln_rt_/);
    expect((await client.get("/api/auth/me")).json().user.id).toBe(user.id);
  });

  it("answers a wrong password and an unknown email identically with 401 invalid_credentials", async () => {
    const { user } = await kiln.signup();
    const wrong = await kiln
      .client()
      .post("/api/auth/login", { email: user.email, password: "wrong password" });
    const unknown = await kiln.client().post("/api/auth/login", {
      email: uniqueEmail("nobody"),
      password: "wrong password",
    });
    expectError(wrong, 401, "invalid_credentials");
    expectError(unknown, 401, "invalid_credentials");
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.cookies).toEqual([]);
    expect(unknown.cookies).toEqual([]);
  });
});

describe("me and the three ways to authenticate", () => {
  it("says which credential was used: cookie, bearer JWT or API token", async () => {
    const { client, user } = await kiln.signup();
    const viaCookie = await client.get("/api/auth/me");
    expect(viaCookie.statusCode).toBe(200);
    expect(viaCookie.json()).toMatchObject({ user: { id: user.id }, auth: "cookie" });

    const viaBearer = await send(kiln, "GET", "/api/auth/me", {
      headers: { authorization: `Bearer ${jar(client).at}` },
    });
    expect(viaBearer.statusCode).toBe(200);
    expect(viaBearer.json()).toMatchObject({ user: { id: user.id }, auth: "bearer" });
    // The scheme is case-insensitive (RFC 7235).
    const lower = await send(kiln, "GET", "/api/auth/me", {
      headers: { authorization: `bearer ${jar(client).at}` },
    });
    expect(lower.json().auth).toBe("bearer");

    const pat = (await client.post("/api/auth/tokens", { name: "cli" })).json().token;
    const viaToken = await send(kiln, "GET", "/api/auth/me", { headers: { authorization: `Bearer ${pat}` } });
    expect(viaToken.statusCode).toBe(200);
    expect(viaToken.json()).toMatchObject({ user: { id: user.id }, auth: "api_token" });
  });

  it("is 401 unauthenticated with no credentials", async () => {
    expectError(await kiln.client().get("/api/auth/me"), 401, "unauthenticated");
  });

  it("prefers the Authorization header over the cookie when both are sent", async () => {
    const a = await kiln.signup();
    const b = await kiln.signup();
    const res = await send(kiln, "GET", "/api/auth/me", {
      cookies: { [ACCESS_COOKIE]: jar(a.client).at! },
      headers: { authorization: `Bearer ${jar(b.client).at}` },
    });
    expect(res.json()).toMatchObject({ user: { id: b.user.id }, auth: "bearer" });
  });
});

describe("access tokens", () => {
  let victim: Awaited<ReturnType<TestKiln["signup"]>>;
  let other: Awaited<ReturnType<TestKiln["signup"]>>;
  beforeAll(async () => {
    victim = await kiln.signup();
    other = await kiln.signup();
  });

  /** Tries a token both as the access cookie and as a Bearer header. */
  async function bothWays(token: string) {
    return [
      await send(kiln, "GET", "/api/auth/me", { cookies: { [ACCESS_COOKIE]: token } }),
      await send(kiln, "GET", "/api/auth/me", { headers: { authorization: `Bearer ${token}` } }),
    ];
  }

  it("refuses a token with a flipped payload character as token_invalid", async () => {
    const [h, p, s] = jar(victim.client).at!.split(".") as [string, string, string];
    const i = 10;
    const flipped = p.slice(0, i) + (p[i] === "A" ? "B" : "A") + p.slice(i + 1);
    for (const res of await bothWays(`${h}.${flipped}.${s}`)) expectError(res, 401, "token_invalid");
  });

  it("refuses a token whose sub was changed to another user's id as token_invalid", async () => {
    const token = jar(victim.client).at!;
    const [h, , s] = token.split(".");
    const payload = { ...decodeJwt(token), sub: other.user.id };
    for (const res of await bothWays(`${h}.${b64(payload)}.${s}`)) expectError(res, 401, "token_invalid");
  });

  it("refuses alg none as token_invalid", async () => {
    const payload = decodeJwt(jar(victim.client).at!);
    for (const token of [
      `${b64({ alg: "none", typ: "JWT" })}.${b64(payload)}.`,
      `${b64({ alg: "none", typ: "JWT" })}.${b64({ ...payload, sub: other.user.id })}.`,
    ]) {
      for (const res of await bothWays(token)) expectError(res, 401, "token_invalid");
    }
  });

  it("refuses a token signed with another key (another instance's) as token_invalid", async () => {
    const claims = claimsOf(jar(victim.client).at!);
    const foreign = await new AccessTokens(jwtKey(strict), 600).sign(claims);
    for (const res of await bothWays(foreign.token)) expectError(res, 401, "token_invalid");
    const random = await new AccessTokens(randomBytes(32), 600).sign(claims);
    for (const res of await bothWays(random.token)) expectError(res, 401, "token_invalid");
  });

  it("refuses a correctly signed token that pairs one user with another user's session", async () => {
    const own = claimsOf(jar(victim.client).at!);
    const forged = await new AccessTokens(jwtKey(kiln), 600).sign({
      userId: other.user.id,
      sessionId: own.sessionId,
    });
    for (const res of await bothWays(forged.token)) expectError(res, 401, "token_invalid");
    const noSession = await new AccessTokens(jwtKey(kiln), 600).sign({
      userId: own.userId,
      sessionId: randomUUID(),
    });
    for (const res of await bothWays(noSession.token)) expectError(res, 401, "token_invalid");
  });

  it("refuses a correctly signed token of another type as token_invalid", async () => {
    const now = Math.floor(Date.now() / 1000);
    const own = claimsOf(jar(victim.client).at!);
    const token = await new SignJWT({ sid: own.sessionId, typ: "refresh" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(own.userId)
      .setIssuer("kiln")
      .setAudience("kiln-api")
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(jwtKey(kiln));
    for (const res of await bothWays(token)) expectError(res, 401, "token_invalid");
  });

  it("reports an expired token as token_expired", async () => {
    const claims = claimsOf(jar(victim.client).at!);
    const expired = await new AccessTokens(jwtKey(kiln), 600).sign(claims, Date.now() - 3_600_000);
    for (const res of await bothWays(expired.token)) expectError(res, 401, "token_expired");
    // The same claims, freshly signed, are fine: it is the expiry that was refused.
    const fresh = await new AccessTokens(jwtKey(kiln), 600).sign(claims);
    for (const res of await bothWays(fresh.token)) expect(res.statusCode).toBe(200);
  });

  it("refuses malformed Authorization headers as token_invalid", async () => {
    for (const authorization of [
      "Basic x",
      "Basic dXNlcjpwYXNz",
      "Bearer",
      "Bearer ",
      "Bearer a b",
      "Token abc",
      "abc",
    ]) {
      expectError(
        await send(kiln, "GET", "/api/auth/me", { headers: { authorization } }),
        401,
        "token_invalid",
      );
    }
    // Even alongside a valid cookie: a broken header is not silently ignored.
    const res = await send(kiln, "GET", "/api/auth/me", {
      cookies: { [ACCESS_COOKIE]: jar(victim.client).at! },
      headers: { authorization: "Basic x" },
    });
    expectError(res, 401, "token_invalid");
  });

  it("refuses garbage bearer tokens, prefixed or not, short or huge, as token_invalid", async () => {
    for (const token of [
      "garbage",
      "kiln_pat_garbage",
      `kiln_pat_${"a".repeat(10_000)}`,
      "a.b.c",
      "x".repeat(8000),
    ]) {
      const res = await send(kiln, "GET", "/api/auth/me", { headers: { authorization: `Bearer ${token}` } });
      expectError(res, 401, "token_invalid");
    }
  });
});

describe("refresh", () => {
  it("rotates: a new refresh cookie and access token, and the old refresh token stops working", async () => {
    const { client, user } = await kiln.signup();
    const before = jar(client);
    const res = await client.post("/api/auth/refresh");
    expect(res.statusCode).toBe(200);
    expect(res.json().user).toEqual(user);
    const after = jar(client);
    expect(after.rt).toMatch(/^kiln_rt_/);
    expect(after.rt).not.toBe(before.rt);
    expect(after.at).toBe(res.json().accessToken);
    expect(after.csrf).toBe(res.json().csrfToken);
    // Same session, new credentials.
    expect(claimsOf(after.at!).sessionId).toBe(claimsOf(before.at!).sessionId);
    expect((await client.get("/api/auth/me")).json().user.id).toBe(user.id);

    const old = await send(kiln, "POST", "/api/auth/refresh", {
      cookies: { [REFRESH_COOKIE]: before.rt!, [CSRF_COOKIE]: after.csrf! },
      headers: { [CSRF_HEADER]: after.csrf! },
    });
    expect(old.statusCode).toBe(401);
    expect(old.cookies).toEqual([]);

    // The newest one keeps rotating.
    expect((await client.post("/api/auth/refresh")).statusCode).toBe(200);
    expect(jar(client).rt).not.toBe(after.rt);
  });

  it("is how a client with an expired access cookie gets back in", async () => {
    const { client, user } = await kiln.signup();
    const claims = claimsOf(jar(client).at!);
    const expired = await new AccessTokens(jwtKey(kiln), 600).sign(claims, Date.now() - 3_600_000);
    client.cookies.set(ACCESS_COOKIE, { value: expired.token, path: "/" });
    expectError(await client.get("/api/auth/me"), 401, "token_expired");
    expect((await client.post("/api/auth/refresh")).statusCode).toBe(200);
    expect((await client.get("/api/auth/me")).json().user.id).toBe(user.id);
  });

  it("within the grace period answers a reused token with refresh_token_superseded and keeps the session", async () => {
    const { client, user } = await kiln.signup();
    const old = jar(client).rt!;
    expect((await client.post("/api/auth/refresh")).statusCode).toBe(200);
    const current = jar(client);

    const again = await send(kiln, "POST", "/api/auth/refresh", {
      cookies: { [REFRESH_COOKIE]: old, [CSRF_COOKIE]: current.csrf! },
      headers: { [CSRF_HEADER]: current.csrf! },
    });
    expectError(again, 401, "refresh_token_superseded");

    expect((await sessionRow(claimsOf(current.at!).sessionId)).revokedAt).toBeNull();
    expect((await client.get("/api/auth/me")).json().user.id).toBe(user.id);
    expect((await client.post("/api/auth/refresh")).statusCode).toBe(200);
  });

  it("lets one of two tabs refreshing at once win; the other is told to retry, and nothing is revoked", async () => {
    const { client } = await kiln.signup();
    const { rt, csrf } = jar(client);
    const both = await Promise.all(
      [1, 2].map(() =>
        send(kiln, "POST", "/api/auth/refresh", {
          cookies: { [REFRESH_COOKIE]: rt!, [CSRF_COOKIE]: csrf! },
          headers: { [CSRF_HEADER]: csrf! },
        }),
      ),
    );
    expect(both.map((r) => r.statusCode).sort()).toEqual([200, 401]);
    expectError(both.find((r) => r.statusCode === 401)!, 401, "refresh_token_superseded");
    const winner = both.find((r) => r.statusCode === 200)!;
    const me = await send(kiln, "GET", "/api/auth/me", {
      cookies: { [ACCESS_COOKIE]: cookie(winner, ACCESS_COOKIE)!.value },
    });
    expect(me.statusCode).toBe(200);
  });

  it("after the grace period treats reuse as theft: 401 refresh_token_reused and the whole session is revoked", async () => {
    const { client } = await strict.signup();
    const stolen = jar(client).rt!;
    expect((await client.post("/api/auth/refresh")).statusCode).toBe(200);
    const current = jar(client);
    const sessionId = claimsOf(current.at!).sessionId;
    // The grace is 0 s; make sure the clock has moved past the instant the token was used.
    await new Promise((resolve) => setTimeout(resolve, 5));

    const reuse = await send(strict, "POST", "/api/auth/refresh", {
      cookies: { [REFRESH_COOKIE]: stolen, [CSRF_COOKIE]: current.csrf! },
      headers: { [CSRF_HEADER]: current.csrf! },
    });
    expectError(reuse, 401, "refresh_token_reused");
    expect(await sessionRow(sessionId)).toMatchObject({ revokedReason: "refresh_token_reused" });

    // The newest refresh token and the live access token die with the session.
    expectError(await client.post("/api/auth/refresh"), 401, "session_revoked");
    expectError(await client.get("/api/auth/me"), 401, "session_revoked");
    expectError(
      await send(strict, "GET", "/api/auth/me", { headers: { authorization: `Bearer ${current.at}` } }),
      401,
      "session_revoked",
    );
    // Presenting the stolen one again changes nothing.
    const twice = await send(strict, "POST", "/api/auth/refresh", {
      cookies: { [REFRESH_COOKIE]: stolen, [CSRF_COOKIE]: current.csrf! },
      headers: { [CSRF_HEADER]: current.csrf! },
    });
    expectError(twice, 401, "session_revoked");
  });

  it("reuse revokes only that session, not the user's others", async () => {
    const { client, user } = await strict.signup();
    const { client: laptop } = await login(strict, user.email);
    const stolen = jar(client).rt!;
    expect((await client.post("/api/auth/refresh")).statusCode).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const reuse = await send(strict, "POST", "/api/auth/refresh", {
      cookies: { [REFRESH_COOKIE]: stolen, [CSRF_COOKIE]: jar(client).csrf! },
      headers: { [CSRF_HEADER]: jar(client).csrf! },
    });
    expectError(reuse, 401, "refresh_token_reused");
    expect((await laptop.get("/api/auth/me")).statusCode).toBe(200);
    expect((await laptop.post("/api/auth/refresh")).statusCode).toBe(200);
  });

  it("needs the CSRF header: 403 csrf_failed, and the refresh token is not spent", async () => {
    const { client } = await kiln.signup();
    const before = jar(client);
    expectError(await client.post("/api/auth/refresh", undefined, { noCsrf: true }), 403, "csrf_failed");
    const wrong = await client.post("/api/auth/refresh", undefined, { headers: { [CSRF_HEADER]: "x.y" } });
    expectError(wrong, 403, "csrf_failed");
    expect(jar(client).rt).toBe(before.rt);
    expect((await client.post("/api/auth/refresh")).statusCode).toBe(200);
  });

  it("refuses the CSRF token of another session", async () => {
    const a = await kiln.signup();
    const b = await login(kiln, a.user.email);
    const res = await send(kiln, "POST", "/api/auth/refresh", {
      cookies: { [REFRESH_COOKIE]: jar(a.client).rt!, [CSRF_COOKIE]: jar(b.client).csrf! },
      headers: { [CSRF_HEADER]: jar(b.client).csrf! },
    });
    expectError(res, 403, "csrf_failed");
  });

  it("is 401 token_invalid without a refresh cookie or with a garbage one", async () => {
    const { client } = await kiln.signup();
    const { csrf, at } = jar(client);
    expectError(
      await send(kiln, "POST", "/api/auth/refresh", {
        cookies: { [ACCESS_COOKIE]: at!, [CSRF_COOKIE]: csrf! },
        headers: { [CSRF_HEADER]: csrf! },
      }),
      401,
      "token_invalid",
    );
    expectError(await kiln.client().post("/api/auth/refresh"), 401, "token_invalid");
    for (const rt of [
      "kiln_rt_garbage",
      "x".repeat(5000),
      `kiln_rt_${randomBytes(32).toString("base64url")}`,
    ]) {
      const res = await send(kiln, "POST", "/api/auth/refresh", {
        cookies: { [REFRESH_COOKIE]: rt, [CSRF_COOKIE]: csrf! },
        headers: { [CSRF_HEADER]: csrf! },
      });
      expectError(res, 401, "token_invalid");
    }
  });

  it("refuses an expired refresh token as token_expired", async () => {
    const { client } = await kiln.signup();
    const sessionId = claimsOf(jar(client).at!).sessionId;
    await kiln.database.db.execute(
      sql`UPDATE refresh_tokens SET expires_at = now() - interval '1 minute' WHERE session_id = ${sessionId}`,
    );
    expectError(await client.post("/api/auth/refresh"), 401, "token_expired");
  });
});

describe("logout", () => {
  it("revokes the session at once and clears all three cookies", async () => {
    const { client } = await kiln.signup();
    const before = jar(client);
    const res = await client.post("/api/auth/logout");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
    for (const [name, path] of [
      [ACCESS_COOKIE, "/"],
      [REFRESH_COOKIE, "/api/auth"],
      [CSRF_COOKIE, "/"],
    ] as const) {
      const c = cookie(res, name);
      expect(c, name).toMatchObject({ value: "", path });
      expect(c!.expires!.getTime(), name).toBeLessThan(Date.now());
    }
    expect(await sessionRow(claimsOf(before.at!).sessionId)).toMatchObject({ revokedReason: "logout" });

    // The access token has not expired, but it no longer works, as a cookie or as a header.
    expectError(
      await send(kiln, "GET", "/api/auth/me", { cookies: { [ACCESS_COOKIE]: before.at! } }),
      401,
      "session_revoked",
    );
    expectError(
      await send(kiln, "GET", "/api/auth/me", { headers: { authorization: `Bearer ${before.at}` } }),
      401,
      "session_revoked",
    );
    const refresh = await send(kiln, "POST", "/api/auth/refresh", {
      cookies: { [REFRESH_COOKIE]: before.rt!, [CSRF_COOKIE]: before.csrf! },
      headers: { [CSRF_HEADER]: before.csrf! },
    });
    expectError(refresh, 401, "session_revoked");
  });

  it("works with only the refresh cookie, when the access cookie is gone", async () => {
    const { client } = await kiln.signup();
    const before = jar(client);
    client.cookies.delete(ACCESS_COOKIE);
    const res = await client.post("/api/auth/logout");
    expect(res.statusCode).toBe(200);
    expect(await sessionRow(claimsOf(before.at!).sessionId)).toMatchObject({ revokedReason: "logout" });
    expectError(
      await send(kiln, "GET", "/api/auth/me", { cookies: { [ACCESS_COOKIE]: before.at! } }),
      401,
      "session_revoked",
    );
  });

  it("works with an expired access cookie next to the refresh cookie", async () => {
    const { client } = await kiln.signup();
    const before = jar(client);
    const claims = claimsOf(before.at!);
    const expired = await new AccessTokens(jwtKey(kiln), 600).sign(claims, Date.now() - 3_600_000);
    const res = await send(kiln, "POST", "/api/auth/logout", {
      cookies: { [ACCESS_COOKIE]: expired.token, [REFRESH_COOKIE]: before.rt!, [CSRF_COOKIE]: before.csrf! },
      headers: { [CSRF_HEADER]: before.csrf! },
    });
    expect(res.statusCode).toBe(200);
    expect(await sessionRow(claims.sessionId)).toMatchObject({ revokedReason: "logout" });
  });

  it("with only a refresh cookie still needs the CSRF token, and then revokes nothing", async () => {
    const { client } = await kiln.signup();
    client.cookies.delete(ACCESS_COOKIE);
    expectError(await client.post("/api/auth/logout", undefined, { noCsrf: true }), 403, "csrf_failed");
    expect((await client.post("/api/auth/refresh")).statusCode).toBe(200);
  });

  it("with the access cookie needs the CSRF token, and then revokes nothing", async () => {
    const { client } = await kiln.signup();
    expectError(await client.post("/api/auth/logout", undefined, { noCsrf: true }), 403, "csrf_failed");
    expect((await client.get("/api/auth/me")).statusCode).toBe(200);
  });

  it("ends only its own session; the user's other sessions keep working", async () => {
    const { client: phone, user } = await kiln.signup();
    const { client: laptop } = await login(kiln, user.email);
    expect((await phone.post("/api/auth/logout")).statusCode).toBe(200);
    expect(phone.cookies.size).toBe(0);
    expect((await laptop.get("/api/auth/me")).json().user.id).toBe(user.id);
    expect((await laptop.post("/api/auth/refresh")).statusCode).toBe(200);
    expect((await laptop.get("/api/auth/me")).statusCode).toBe(200);
  });

  it("with a Bearer access token revokes that session", async () => {
    const { client } = await kiln.signup();
    const { at } = jar(client);
    const res = await send(kiln, "POST", "/api/auth/logout", { headers: { authorization: `Bearer ${at}` } });
    expect(res.statusCode).toBe(200);
    expectError(await client.get("/api/auth/me"), 401, "session_revoked");
  });

  it("without any credentials is a harmless no-op", async () => {
    const res = await kiln.client().post("/api/auth/logout");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ok: true });
  });
});

describe("CSRF on cookie-authenticated requests", () => {
  it("refuses POST, PATCH and DELETE without the header, and changes nothing", async () => {
    const { client } = await kiln.signup();
    const created = await client.post("/api/auth/tokens", { name: "keep" });
    expect(created.statusCode).toBe(201);
    const orgSlug = uniqueSlug("csrf");
    expect((await client.post("/api/orgs", { name: "Before", slug: orgSlug })).statusCode).toBe(201);

    expectError(await client.post("/api/auth/tokens", { name: "new" }, { noCsrf: true }), 403, "csrf_failed");
    expectError(
      await client.patch(`/api/orgs/${orgSlug}`, { name: "After" }, { noCsrf: true }),
      403,
      "csrf_failed",
    );
    expectError(
      await client.delete(`/api/auth/tokens/${created.json().id}`, { noCsrf: true }),
      403,
      "csrf_failed",
    );

    const tokens = (await client.get("/api/auth/tokens")).json();
    expect(tokens.map((t: { name: string }) => t.name)).toEqual(["keep"]);
    expect((await client.get(`/api/orgs/${orgSlug}`)).json().name).toBe("Before");
  });

  it("refuses a wrong header, another session's token, and a matching but unsigned pair", async () => {
    const { client, user } = await kiln.signup();
    const { client: second } = await login(kiln, user.email);
    const mine = jar(client);
    const theirs = jar(second).csrf!;
    const [nonce] = mine.csrf!.split(".") as [string];
    const otherKeyMac = createHmac("sha256", randomBytes(32))
      .update(`${claimsOf(mine.at!).sessionId}.${nonce}`)
      .digest("base64url");
    const attempts: Array<{ cookie: string; header: string }> = [
      { cookie: mine.csrf!, header: "wrong" },
      { cookie: mine.csrf!, header: `${mine.csrf}x` },
      { cookie: "wrong", header: mine.csrf! },
      { cookie: theirs, header: theirs },
      { cookie: mine.csrf!, header: theirs },
      { cookie: "forged.pair", header: "forged.pair" },
      { cookie: `${nonce}.${otherKeyMac}`, header: `${nonce}.${otherKeyMac}` },
    ];
    for (const { cookie: c, header } of attempts) {
      const res = await send(kiln, "POST", "/api/auth/tokens", {
        cookies: { [ACCESS_COOKIE]: mine.at!, [CSRF_COOKIE]: c },
        headers: { [CSRF_HEADER]: header },
        body: { name: "forged" },
      });
      expectError(res, 403, "csrf_failed");
    }
    // The header alone (no cookie) is not enough either: it is a double submit.
    const headerOnly = await send(kiln, "POST", "/api/auth/tokens", {
      cookies: { [ACCESS_COOKIE]: mine.at! },
      headers: { [CSRF_HEADER]: mine.csrf! },
      body: { name: "forged" },
    });
    expectError(headerOnly, 403, "csrf_failed");
    expect((await client.get("/api/auth/tokens")).json()).toEqual([]);

    // The right pair works, which shows the refusals above were about CSRF.
    const ok = await send(kiln, "POST", "/api/auth/tokens", {
      cookies: { [ACCESS_COOKIE]: mine.at!, [CSRF_COOKIE]: mine.csrf! },
      headers: { [CSRF_HEADER]: mine.csrf! },
      body: { name: "real" },
    });
    expect(ok.statusCode).toBe(201);
  });

  it("asks nothing of GET", async () => {
    const { client } = await kiln.signup();
    const res = await send(kiln, "GET", "/api/auth/tokens", {
      cookies: { [ACCESS_COOKIE]: jar(client).at! },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([]);
  });

  it("asks nothing of Bearer-authenticated unsafe requests", async () => {
    const { client } = await kiln.signup();
    const { at } = jar(client);
    const res = await send(kiln, "POST", "/api/auth/tokens", {
      headers: { authorization: `Bearer ${at}` },
      body: { name: "via-bearer" },
    });
    expect(res.statusCode).toBe(201);
    const del = await send(kiln, "DELETE", `/api/auth/tokens/${res.json().id}`, {
      headers: { authorization: `Bearer ${at}` },
    });
    expect(del.statusCode).toBe(200);
    expect((await client.get("/api/auth/tokens")).json()).toEqual([]);
  });
});

describe("login rate limit", () => {
  it(`answers attempt ${MAX_ATTEMPTS + 1} for one IP and email with 429 and Retry-After, even with the right password`, async () => {
    const { user } = await kiln.signup();
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      expectError((await login(kiln, user.email, "wrong password")).res, 401, "invalid_credentials");
    }
    const limited = (await login(kiln, user.email)).res;
    expectError(limited, 429, "rate_limited");
    const retryAfter = Number(limited.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(limited.json().error.details).toEqual({ retryAfterSeconds: retryAfter });
    expect(limited.cookies).toEqual([]);
    // Casing the email differently is the same account, so the same counter.
    expectError((await login(kiln, user.email.toUpperCase())).res, 429, "rate_limited");
  });

  it("does not limit another email from the same IP, or the same email from another IP", async () => {
    const { user } = await kiln.signup();
    const { user: neighbour } = await kiln.signup();
    for (let i = 0; i <= MAX_ATTEMPTS; i++) await login(kiln, user.email, "wrong password");
    expectError((await login(kiln, user.email)).res, 429, "rate_limited");

    expect((await login(kiln, neighbour.email)).res.statusCode).toBe(200);
    const elsewhere = await send(kiln, "POST", "/api/auth/login", {
      body: { email: user.email, password: PASSWORD },
      remoteAddress: "203.0.113.7",
    });
    expect(elsewhere.statusCode).toBe(200);
  });

  it("resets the counter after a successful log-in", async () => {
    const { user } = await kiln.signup();
    for (let i = 0; i < MAX_ATTEMPTS - 1; i++) await login(kiln, user.email, "wrong password");
    expect((await login(kiln, user.email)).res.statusCode).toBe(200);
    // Without the reset this would be attempt MAX_ATTEMPTS + 1 and refused.
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      expectError((await login(kiln, user.email, "wrong password")).res, 401, "invalid_credentials");
    }
    expectError((await login(kiln, user.email)).res, 429, "rate_limited");
  });

  it("holds under parallel guesses: exactly the budget gets an answer, the rest 429", async () => {
    const { user } = await kiln.signup();
    const results = await Promise.all(
      Array.from({ length: MAX_ATTEMPTS + 3 }, () => login(kiln, user.email, "wrong password")),
    );
    const codes = results.map((r) => r.res.json().error.code);
    expect(codes.filter((c) => c === "invalid_credentials")).toHaveLength(MAX_ATTEMPTS);
    expect(codes.filter((c) => c === "rate_limited")).toHaveLength(3);
  });

  it("lets the account in again once the window has passed", async () => {
    const { user } = await kiln.signup();
    for (let i = 0; i < MAX_ATTEMPTS; i++) await login(kiln, user.email, "wrong password");
    expectError((await login(kiln, user.email)).res, 429, "rate_limited");
    // Age the window instead of waiting out its 900 s.
    await kiln.database.db.execute(
      sql`UPDATE rate_limits SET window_start = now() - interval '901 seconds' WHERE key = ${`login:127.0.0.1:${user.email}`}`,
    );
    expect((await login(kiln, user.email)).res.statusCode).toBe(200);
  });

  it("limits guesses at emails that have no account too", async () => {
    const email = uniqueEmail("ghost");
    for (let i = 0; i < MAX_ATTEMPTS; i++)
      expectError((await login(kiln, email, "x")).res, 401, "invalid_credentials");
    expectError((await login(kiln, email, "x")).res, 429, "rate_limited");
  });
});

describe("API tokens", () => {
  it("shows the secret once, lists without it, works as Bearer, and stops working once revoked", async () => {
    const { client, user } = await kiln.signup();
    const created = await client.post("/api/auth/tokens", { name: "ci" });
    expect(created.statusCode).toBe(201);
    const { token, ...meta } = created.json();
    expect(token).toMatch(/^kiln_pat_[A-Za-z0-9_-]{43}$/);
    expect(meta).toMatchObject({ name: "ci", prefix: token.slice(0, 15), lastUsedAt: null, expiresAt: null });

    const listed = await client.get("/api/auth/tokens");
    expect(listed.json()).toEqual([meta]);
    expect(listed.body).not.toContain(token.slice(15));
    // Only a hash is stored.
    const [row] = await kiln.database.db.select().from(apiTokens).where(eq(apiTokens.id, meta.id));
    expect(JSON.stringify(row)).not.toContain(token.slice(15));

    const me = await send(kiln, "GET", "/api/auth/me", { headers: { authorization: `Bearer ${token}` } });
    expect(me.json()).toMatchObject({ user: { id: user.id }, auth: "api_token" });
    expect((await client.get("/api/auth/tokens")).json()[0].lastUsedAt).not.toBeNull();

    expect((await client.delete(`/api/auth/tokens/${meta.id}`)).json()).toEqual({ ok: true });
    expectError(
      await send(kiln, "GET", "/api/auth/me", { headers: { authorization: `Bearer ${token}` } }),
      401,
      "token_invalid",
    );
    expect((await client.get("/api/auth/tokens")).json()).toEqual([]);
    expectError(await client.delete(`/api/auth/tokens/${meta.id}`), 404, "api_token_not_found");
  });

  it("cannot be revoked, or seen, by another user", async () => {
    const owner = await kiln.signup();
    const stranger = await kiln.signup();
    const { id, token } = (await owner.client.post("/api/auth/tokens", { name: "mine" })).json();
    expectError(await stranger.client.delete(`/api/auth/tokens/${id}`), 404, "api_token_not_found");
    expect((await stranger.client.get("/api/auth/tokens")).json()).toEqual([]);
    expectError(await owner.client.delete(`/api/auth/tokens/${randomUUID()}`), 404, "api_token_not_found");
    const me = await send(kiln, "GET", "/api/auth/me", { headers: { authorization: `Bearer ${token}` } });
    expect(me.json().user.id).toBe(owner.user.id);
  });

  it("expires after expiresInDays, and validates it", async () => {
    const { client } = await kiln.signup();
    const res = await client.post("/api/auth/tokens", { name: "week", expiresInDays: 7 });
    expect(res.statusCode).toBe(201);
    const expiresIn = new Date(res.json().expiresAt).getTime() - Date.now();
    expect(expiresIn).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(expiresIn).toBeLessThanOrEqual(7 * 86_400_000);
    expect((await client.post("/api/auth/tokens", { name: "max", expiresInDays: 3650 })).statusCode).toBe(
      201,
    );

    for (const expiresInDays of [0, -1, 3651, 1.5, "7", null, 2 ** 53, true]) {
      const bad = await client.post("/api/auth/tokens", { name: "bad", expiresInDays });
      expectError(bad, 400, "validation_failed");
    }
    expect((await client.get("/api/auth/tokens")).json()).toHaveLength(2);

    await kiln.database.db
      .update(apiTokens)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(apiTokens.id, res.json().id));
    expectError(
      await send(kiln, "GET", "/api/auth/me", { headers: { authorization: `Bearer ${res.json().token}` } }),
      401,
      "token_expired",
    );
  });

  it("keeps working after its owner logs out of their session", async () => {
    const { client } = await kiln.signup();
    const { token } = (await client.post("/api/auth/tokens", { name: "survives" })).json();
    expect((await client.post("/api/auth/logout")).statusCode).toBe(200);
    const me = await send(kiln, "GET", "/api/auth/me", { headers: { authorization: `Bearer ${token}` } });
    expect(me.statusCode).toBe(200);
  });
});

describe("bad input on the auth routes", () => {
  let bearer: string;
  beforeAll(async () => {
    bearer = jar((await kiln.signup()).client).at!;
  });

  const json = { "content-type": "application/json" };
  const email = () => uniqueEmail("bad");
  type Case = { name: string; body?: string; headers?: Record<string, string>; status: number; code: string };
  const bodyCases = (route: "signup" | "login" | "tokens"): Case[] => {
    const valid = route === "tokens" ? { name: "x" } : { email: email(), password: PASSWORD };
    const v = (extra: Record<string, unknown>) => JSON.stringify({ ...valid, ...extra });
    const cases: Case[] = [
      { name: "malformed JSON", body: '{"email": ', headers: json, status: 400, code: "invalid_json" },
      { name: "empty JSON body", body: "", headers: json, status: 400, code: "invalid_json" },
      { name: "JSON null", body: "null", headers: json, status: 400, code: "validation_failed" },
      { name: "JSON array", body: "[]", headers: json, status: 400, code: "validation_failed" },
      { name: "JSON string", body: '"hello"', headers: json, status: 400, code: "validation_failed" },
      { name: "missing fields", body: "{}", headers: json, status: 400, code: "validation_failed" },
      {
        name: "unknown field",
        body: v({ admin: true }),
        headers: json,
        status: 400,
        code: "validation_failed",
      },
      {
        name: "__proto__ key",
        body: `{"__proto__": {"admin": true}, ${v({}).slice(1)}`,
        headers: json,
        status: 400,
        code: "invalid_json",
      },
      {
        name: "form-encoded",
        body: "email=a%40b.c&password=12345678",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        status: 415,
        code: "unsupported_media_type",
      },
      // A cross-site form can send text/plain without a preflight; it must never be read as JSON.
      {
        name: "text/plain",
        body: v({}),
        headers: { "content-type": "text/plain" },
        status: 400,
        code: "validation_failed",
      },
      {
        name: "body over the limit",
        body: v({ pad: "x".repeat(1_100_000) }),
        headers: json,
        status: 413,
        code: "payload_too_large",
      },
    ];
    if (route === "tokens") {
      cases.push(
        { name: "wrong type", body: '{"name": 42}', headers: json, status: 400, code: "validation_failed" },
        {
          name: "empty name",
          body: '{"name": "   "}',
          headers: json,
          status: 400,
          code: "validation_failed",
        },
        {
          name: "long name",
          body: v({ name: "n".repeat(101) }),
          headers: json,
          status: 400,
          code: "validation_failed",
        },
      );
    } else {
      cases.push(
        {
          name: "wrong types",
          body: '{"email": 1, "password": true}',
          headers: json,
          status: 400,
          code: "validation_failed",
        },
        {
          name: "missing password",
          body: JSON.stringify({ email: email() }),
          headers: json,
          status: 400,
          code: "validation_failed",
        },
        {
          name: "not an email",
          body: v({ email: "not-an-email" }),
          headers: json,
          status: 400,
          code: "validation_failed",
        },
        {
          name: "10 KB email",
          body: v({ email: `${"a".repeat(10_000)}@example.com` }),
          headers: json,
          status: 400,
          code: "validation_failed",
        },
        {
          name: "300-char password",
          body: v({ password: "p".repeat(300) }),
          headers: json,
          status: 400,
          code: "validation_failed",
        },
        {
          name: "NUL in email",
          body: v({ email: "a\u0000b@example.com" }),
          headers: json,
          status: 400,
          code: "validation_failed",
        },
      );
    }
    if (route === "signup") {
      cases.push(
        {
          name: "7-char password",
          body: v({ password: "1234567" }),
          headers: json,
          status: 400,
          code: "validation_failed",
        },
        {
          name: "NUL in name",
          body: v({ name: "a\u0000b" }),
          headers: json,
          status: 400,
          code: "validation_failed",
        },
      );
    }
    if (route === "login") {
      cases.push({
        name: "empty password",
        body: v({ password: "" }),
        headers: json,
        status: 400,
        code: "validation_failed",
      });
    }
    return cases;
  };

  for (const route of ["signup", "login", "tokens"] as const) {
    it(`POST /api/auth/${route} answers each bad body with a 4xx and a machine-readable code`, async () => {
      const url = `/api/auth/${route}`;
      const auth: Record<string, string> = route === "tokens" ? { authorization: `Bearer ${bearer}` } : {};
      const failures: string[] = [];
      for (const c of bodyCases(route)) {
        const res = await send(kiln, "POST", url, { headers: { ...auth, ...c.headers }, body: c.body });
        const got = { status: res.statusCode, code: res.json()?.error?.code };
        if (got.status !== c.status || got.code !== c.code || !ErrorEnvelope.safeParse(res.json()).success) {
          failures.push(
            `${c.name}: expected ${c.status} ${c.code}, got ${got.status} ${res.body.slice(0, 200)}`,
          );
        }
        expect(res.cookies, c.name).toEqual([]);
      }
      expect(failures).toEqual([]);
    });
  }

  it("creates no user for any refused sign-up body", async () => {
    const address = uniqueEmail("refused");
    for (const body of [
      { email: address, password: PASSWORD, admin: true },
      { email: address, password: "1234567" },
      { email: address, password: PASSWORD, name: "a\u0000b" },
    ]) {
      expect((await kiln.client().post("/api/auth/signup", body)).statusCode).toBe(400);
    }
    expect(await userRow(address)).toHaveLength(0);
  });

  it("refuses a malformed token id and malformed JSON on refresh and logout", async () => {
    const auth = { authorization: `Bearer ${bearer}` };
    for (const id of ["not-a-uuid", "1", "%00", `${randomUUID()}x`]) {
      expectError(
        await send(kiln, "DELETE", `/api/auth/tokens/${id}`, { headers: auth }),
        400,
        "validation_failed",
      );
    }
    // Fastify refuses an over-long path parameter while routing, before validation.
    expectError(
      await send(kiln, "DELETE", `/api/auth/tokens/${"a".repeat(300)}`, { headers: auth }),
      414,
      "bad_request",
    );
    for (const url of ["/api/auth/refresh", "/api/auth/logout"]) {
      expectError(await send(kiln, "POST", url, { headers: json, body: "{" }), 400, "invalid_json");
    }
    // None of that logged the caller out.
    expect((await send(kiln, "GET", "/api/auth/me", { headers: auth })).statusCode).toBe(200);
  });

  it("answers unsupported methods on auth routes without a 500", async () => {
    for (const [method, url] of [
      ["PUT", "/api/auth/login"],
      ["DELETE", "/api/auth/me"],
      ["GET", "/api/auth/signup"],
    ] as const) {
      const res = await send(kiln, method, url);
      expect(res.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, `${method} ${url}`).toBeLessThan(500);
      expect(ErrorEnvelope.safeParse(res.json()).success).toBe(true);
    }
  });
});

describe("the refresh token family in the database", () => {
  it("keeps one row per rotation, marking every superseded token used", async () => {
    const { client } = await kiln.signup();
    const sessionId = claimsOf(jar(client).at!).sessionId;
    for (let i = 0; i < 3; i++) expect((await client.post("/api/auth/refresh")).statusCode).toBe(200);
    const rows = await query<{ used: boolean }>(
      kiln.database.db,
      sql`SELECT used_at IS NOT NULL AS used FROM refresh_tokens WHERE session_id = ${sessionId} ORDER BY created_at`,
    );
    expect(rows.map((r) => r.used)).toEqual([true, true, true, false]);
  });
});
