import { randomUUID } from "node:crypto";
import type { Me, User } from "@kiln/protocol";
import { and, asc, eq, isNotNull, isNull, sql } from "drizzle-orm";
import { recordAudit } from "../audit/index.ts";
import type { Database, Executor } from "../db/client.ts";
import { memberships, refreshTokens, sessions, users } from "../db/schema-shared.ts";
import { ConflictError, ForbiddenError, UnauthenticatedError } from "../errors/errors.ts";
import type { ClientMeta, Principal } from "../http/principal.ts";
import type { OrgService } from "../orgs/service.ts";
import type { CsrfTokens } from "./csrf.ts";
import type { EmailVerificationService } from "./email-verification.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { type AccessTokens, hashToken, opaqueToken } from "./tokens.ts";

type UserRow = typeof users.$inferSelect;

export interface IssuedSession {
  user: User;
  sessionId: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  csrfToken: string;
}

export interface AuthOptions {
  signupOpen: boolean;
  refreshTokenTtlDays: number;
  refreshReuseGraceSeconds: number;
}

/** Log-in tries the password on at most this many unverified accounts naming one address (oldest first). */
const LOGIN_CANDIDATES = 5;

export function toUser(row: Pick<UserRow, "id" | "email" | "name" | "createdAt" | "emailVerifiedAt">): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    emailVerified: row.emailVerifiedAt !== null,
    createdAt: row.createdAt.toISOString(),
  };
}

export class AuthService {
  readonly #database: Database;
  readonly #orgs: OrgService;
  readonly #access: AccessTokens;
  readonly #csrf: CsrfTokens;
  readonly #loginLimiter: RateLimiter;
  readonly #verification: EmailVerificationService;
  readonly #options: AuthOptions;
  readonly #log: { warn(obj: object, msg: string): void };
  #sessionCheck: ((session: typeof sessions.$inferSelect) => Promise<boolean>) | undefined;

  #signupPolicy: ((email: string) => Promise<void>) | undefined;
  #isAdmin: (userId: string) => Promise<boolean> = async () => false;

  /** Tells whether a person administers the instance (admin/), for `me`. */
  useAdminCheck(check: (userId: string) => Promise<boolean>): void {
    this.#isAdmin = check;
  }

  /** Asked before an account is made; throws when the instance's sign-up policy refuses it (admin/). */
  useSignupPolicy(check: (email: string) => Promise<void>): void {
    this.#signupPolicy = check;
  }

  /** Asked at each refresh whether the session still holds (auth/oidc: the provider still vouches). */
  useSessionCheck(check: (session: typeof sessions.$inferSelect) => Promise<boolean>): void {
    this.#sessionCheck = check;
  }

  constructor(deps: {
    database: Database;
    orgs: OrgService;
    access: AccessTokens;
    csrf: CsrfTokens;
    loginLimiter: RateLimiter;
    verification: EmailVerificationService;
    options: AuthOptions;
    log: { warn(obj: object, msg: string): void };
  }) {
    this.#database = deps.database;
    this.#orgs = deps.orgs;
    this.#access = deps.access;
    this.#csrf = deps.csrf;
    this.#loginLimiter = deps.loginLimiter;
    this.#verification = deps.verification;
    this.#options = deps.options;
    this.#log = deps.log;
  }

  /**
   * Creates an unverified account and mails it a verification code. Only a verified account holds its
   * address, so an address someone merely typed in does not stop its owner signing up.
   */
  async signup(input: { email: string; password: string; name?: string | undefined }, meta: ClientMeta) {
    if (!this.#options.signupOpen)
      throw new ForbiddenError("signup_not_allowed", "sign-up is closed on this instance");
    await this.#signupPolicy?.(input.email);
    const passwordHash = await hashPassword(input.password);
    const name = input.name ?? input.email.split("@")[0] ?? input.email;
    const session = await this.#database.transaction(async (tx) => {
      const [holder] = await tx
        .select({ id: users.id })
        .from(users)
        .where(and(eq(sql`lower(${users.email})`, input.email), isNotNull(users.emailVerifiedAt)));
      if (holder) throw new ConflictError("email_taken", "an account with this email already exists");
      const [user] = await tx
        .insert(users)
        .values({ id: randomUUID(), email: input.email, name, passwordHash })
        .returning();
      await this.#orgs.createPersonalInTx(tx, user!.id, input.email, name);
      return this.#startSession(tx, user!, meta, null);
    });
    try {
      await this.#verification.send(session.user.id);
    } catch (err) {
      // The account stands; the studio offers "send the code again".
      this.#log.warn({ err, userId: session.user.id }, "verification email not sent at sign-up");
    }
    return session;
  }

  async login(input: { email: string; password: string }, meta: ClientMeta): Promise<IssuedSession> {
    const key = `login:${meta.ip}:${input.email}`;
    await this.#loginLimiter.hit(key);
    // A verified account owns the address outright; until one exists, several unverified accounts may
    // name it (someone may have typed another's address) and the password says which one is meant.
    const candidates = await this.#database.db
      .select()
      .from(users)
      .where(eq(sql`lower(${users.email})`, input.email))
      .orderBy(sql`${users.emailVerifiedAt} IS NULL`, asc(users.createdAt))
      .limit(LOGIN_CANDIDATES);
    const tried = candidates[0]?.emailVerifiedAt ? candidates.slice(0, 1) : candidates;
    let user: UserRow | undefined;
    for (const candidate of tried) {
      if (await verifyPassword(candidate.passwordHash, input.password)) {
        user = candidate;
        break;
      }
    }
    if (tried.length === 0) await verifyPassword(undefined, input.password);
    if (!user) throw new UnauthenticatedError("invalid_credentials", "wrong email or password");
    await this.#loginLimiter.reset(key);
    return this.#database.transaction((tx) => this.#startSession(tx, user, meta, "password"));
  }

  /**
   * A new session for an account that proved itself another way: `method` says how, for the audit log
   * (`password_reset`, or the sign-in provider's id).
   */
  async signIn(userId: string, meta: ClientMeta, method: string): Promise<IssuedSession> {
    return this.#database.transaction(async (tx) => {
      const [user] = await tx.select().from(users).where(eq(users.id, userId));
      if (!user) throw new UnauthenticatedError("token_invalid", "user no longer exists");
      return this.#startSession(tx, user, meta, method);
    });
  }

  /**
   * Rotates a refresh token. A token presented twice means it leaked (or two tabs raced): within the
   * grace period the second caller is told to retry with the newer cookie; after it, the whole session
   * (the token family) is revoked.
   */
  async refresh(
    token: string | undefined,
    csrf: { cookie: string | undefined; header: string | undefined },
  ): Promise<IssuedSession> {
    if (!token || token.length > 200)
      throw new UnauthenticatedError("token_invalid", "refresh token missing");
    type Outcome =
      | {
          error:
            | "token_invalid"
            | "csrf_failed"
            | "session_revoked"
            | "refresh_token_superseded"
            | "refresh_token_reused"
            | "token_expired";
        }
      | { issued: IssuedSession; session: typeof sessions.$inferSelect };
    const outcome = await this.#database.transaction(async (tx): Promise<Outcome> => {
      const [found] = await tx
        .select({ token: refreshTokens, session: sessions, user: users })
        .from(refreshTokens)
        .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
        .innerJoin(users, eq(users.id, sessions.userId))
        .where(eq(refreshTokens.tokenHash, hashToken(token)))
        .for("update", { of: refreshTokens });
      if (!found) return { error: "token_invalid" };
      if (!this.#csrf.verify(found.session.id, csrf.cookie, csrf.header)) return { error: "csrf_failed" };
      if (found.session.revokedAt) return { error: "session_revoked" };
      if (found.token.usedAt) {
        const since = Date.now() - found.token.usedAt.getTime();
        if (since <= this.#options.refreshReuseGraceSeconds * 1000)
          return { error: "refresh_token_superseded" };
        await tx
          .update(sessions)
          .set({ revokedAt: new Date(), revokedReason: "refresh_token_reused" })
          .where(eq(sessions.id, found.session.id));
        return { error: "refresh_token_reused" };
      }
      if (found.token.expiresAt.getTime() <= Date.now()) return { error: "token_expired" };
      await tx.update(refreshTokens).set({ usedAt: new Date() }).where(eq(refreshTokens.id, found.token.id));
      return { issued: await this.#issue(tx, found.user, found.session.id), session: found.session };
    });
    if ("error" in outcome) {
      if (outcome.error === "csrf_failed")
        throw new ForbiddenError("csrf_failed", "missing or wrong x-csrf-token header");
      const messages = {
        token_invalid: "refresh token is not valid",
        session_revoked: "this session has been signed out",
        refresh_token_superseded: "refresh token was already rotated; retry with the newest cookie",
        refresh_token_reused: "refresh token reuse detected; the session has been revoked",
        token_expired: "refresh token expired; sign in again",
      } as const;
      throw new UnauthenticatedError(outcome.error, messages[outcome.error]);
    }
    // A session begun through a single sign-on provider holds only while the provider still vouches.
    if (this.#sessionCheck && !(await this.#sessionCheck(outcome.session))) {
      await this.#database.db
        .update(sessions)
        .set({ revokedAt: new Date(), revokedReason: "sso_revoked" })
        .where(eq(sessions.id, outcome.session.id));
      throw new UnauthenticatedError(
        "session_revoked",
        "the sign-in provider no longer vouches for this account",
      );
    }
    return outcome.issued;
  }

  /** The session a refresh token belongs to, if the CSRF token matches it; used to log out without an access token. */
  async sessionOfRefreshToken(
    token: string,
    csrf: { cookie: string | undefined; header: string | undefined },
  ): Promise<string | undefined> {
    if (token.length > 200) return undefined;
    const [found] = await this.#database.db
      .select({ sessionId: refreshTokens.sessionId })
      .from(refreshTokens)
      .where(eq(refreshTokens.tokenHash, hashToken(token)));
    if (!found) return undefined;
    if (!this.#csrf.verify(found.sessionId, csrf.cookie, csrf.header)) {
      throw new ForbiddenError("csrf_failed", "missing or wrong x-csrf-token header");
    }
    return found.sessionId;
  }

  async logout(sessionId: string): Promise<void> {
    await this.#database.db
      .update(sessions)
      .set({ revokedAt: new Date(), revokedReason: "logout" })
      .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
  }

  /** Resolves a JWT to a principal; the session row is checked so log-out takes effect at once. */
  async authenticateAccessToken(token: string, via: "cookie" | "bearer"): Promise<Principal> {
    const claims = await this.#access.verify(token);
    const [found] = await this.#database.db
      .select({ user: users, revokedAt: sessions.revokedAt })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.id, claims.sessionId), eq(sessions.userId, claims.userId)));
    if (!found) throw new UnauthenticatedError("token_invalid", "session not found");
    if (found.revokedAt || found.user.suspendedAt)
      throw new UnauthenticatedError("session_revoked", "this session has been signed out");
    return {
      userId: found.user.id,
      email: found.user.email,
      name: found.user.name,
      via,
      sessionId: claims.sessionId,
    };
  }

  verifyCsrf(sessionId: string, cookie: string | undefined, header: string | undefined): boolean {
    return this.#csrf.verify(sessionId, cookie, header);
  }

  async me(principal: Principal): Promise<Me> {
    const [user] = await this.#database.db.select().from(users).where(eq(users.id, principal.userId));
    if (!user) throw new UnauthenticatedError("token_invalid", "user no longer exists");
    const [orgs, instanceAdmin] = await Promise.all([
      this.#orgs.listForUser(principal.userId),
      this.#isAdmin(principal.userId),
    ]);
    return {
      instanceAdmin,
      user: toUser(user),
      orgs: orgs.map((o) => ({
        orgId: o.id,
        slug: o.slug,
        name: o.name,
        role: o.role,
        personal: o.personal,
      })),
      auth: principal.via,
    };
  }

  /** `method`: how the person signed in, recorded in each org they belong to; null at sign-up. */
  async #startSession(
    tx: Executor,
    user: UserRow,
    meta: ClientMeta,
    method: string | null,
  ): Promise<IssuedSession> {
    // Every way in (password, reset link, single sign-on) starts its session here.
    if (user.suspendedAt) {
      throw new ForbiddenError(
        "account_suspended",
        "this account is suspended; ask the instance's administrator",
      );
    }
    const sessionId = randomUUID();
    await tx.insert(sessions).values({
      id: sessionId,
      userId: user.id,
      expiresAt: this.#refreshExpiry(),
      userAgent: meta.userAgent?.slice(0, 300) ?? null,
      ip: meta.ip,
    });
    if (method) {
      const orgIds = await tx
        .select({ orgId: memberships.orgId })
        .from(memberships)
        .where(eq(memberships.userId, user.id));
      await recordAudit(
        tx,
        ...orgIds.map(({ orgId }) => ({
          orgId,
          action: "auth.signed_in" as const,
          actor: { type: "user" as const, userId: user.id },
          data: { method },
          ip: meta.ip,
        })),
      );
    }
    return this.#issue(tx, user, sessionId);
  }

  async #issue(tx: Executor, user: UserRow, sessionId: string): Promise<IssuedSession> {
    const refreshToken = opaqueToken("kiln_rt_");
    const refreshTokenExpiresAt = this.#refreshExpiry();
    await tx.insert(refreshTokens).values({
      id: randomUUID(),
      sessionId,
      tokenHash: hashToken(refreshToken),
      expiresAt: refreshTokenExpiresAt,
    });
    await tx
      .update(sessions)
      .set({ expiresAt: refreshTokenExpiresAt, lastUsedAt: new Date() })
      .where(eq(sessions.id, sessionId));
    const access = await this.#access.sign({ userId: user.id, sessionId });
    return {
      user: toUser(user),
      sessionId,
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken,
      refreshTokenExpiresAt,
      csrfToken: this.#csrf.issue(sessionId),
    };
  }

  #refreshExpiry(): Date {
    return new Date(Date.now() + this.#options.refreshTokenTtlDays * 86_400_000);
  }
}
