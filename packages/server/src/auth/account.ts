import type { ActiveSession, SessionsRevoked, UpdateMeBody, User } from "@kiln/protocol";
import { and, desc, eq, gt, isNotNull, isNull, ne, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { sessions, users } from "../db/schema-shared.ts";
import {
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
} from "../errors/errors.ts";
import type { Principal } from "../http/principal.ts";
import type { EmailVerificationService } from "./email-verification.ts";
import { hashPassword, verifyPassword } from "./passwords.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { toUser } from "./service.ts";

type SessionRow = typeof sessions.$inferSelect;

function toActiveSession(row: SessionRow, currentId: string | undefined): ActiveSession {
  return {
    id: row.id,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: row.lastUsedAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    userAgent: row.userAgent,
    ip: row.ip,
    current: row.id === currentId,
  };
}

/**
 * What the signed-in user changes about their own account: name, email address, password, and the
 * sessions (signed-in browsers) it has. Revoking a session takes effect at once: every request's access
 * token is checked against its session row (AuthService.authenticateAccessToken), and refresh refuses it.
 */
export class AccountService {
  readonly #database: Database;
  readonly #verification: EmailVerificationService;
  readonly #passwordLimiter: RateLimiter;
  readonly #log: { warn(obj: object, msg: string): void };

  constructor(deps: {
    database: Database;
    verification: EmailVerificationService;
    /** Wrong current passwords, per user: the same budget as log-in. */
    passwordLimiter: RateLimiter;
    log: { warn(obj: object, msg: string): void };
  }) {
    this.#database = deps.database;
    this.#verification = deps.verification;
    this.#passwordLimiter = deps.passwordLimiter;
    this.#log = deps.log;
  }

  /**
   * A new address replaces the old one unverified, and is mailed a code and link as at sign-up. Until it
   * is verified it holds no claim; one another account has already verified is refused.
   */
  async updateMe(principal: Principal, body: UpdateMeBody): Promise<User> {
    const user = await this.#user(principal.userId);
    const email =
      body.email !== undefined && body.email !== user.email.toLowerCase() ? body.email : undefined;
    if (email !== undefined) {
      if (body.currentPassword === undefined)
        throw new BadRequestError("bad_request", "changing the email address needs currentPassword");
      await this.#checkPassword(user.id, user.passwordHash, body.currentPassword);
      const [holder] = await this.#database.db
        .select({ id: users.id })
        .from(users)
        .where(
          and(eq(sql`lower(${users.email})`, email), isNotNull(users.emailVerifiedAt), ne(users.id, user.id)),
        );
      if (holder) throw new ConflictError("email_taken", "another account has already verified this address");
    }
    const [updated] = await this.#database.db
      .update(users)
      .set({
        ...(body.name !== undefined ? { name: body.name } : {}),
        ...(email !== undefined ? { email, emailVerifiedAt: null } : {}),
        updatedAt: new Date(),
      })
      .where(eq(users.id, user.id))
      .returning();
    if (email !== undefined) {
      try {
        await this.#verification.send(user.id);
      } catch (err) {
        // The address stands, unverified; the studio offers "send the code again".
        this.#log.warn({ err, userId: user.id }, "verification email not sent after an email change");
      }
    }
    return toUser(updated!);
  }

  /** Sets a new password and signs out every other session; the one asking stays signed in. */
  async changePassword(
    principal: Principal,
    body: { currentPassword: string; newPassword: string },
  ): Promise<SessionsRevoked> {
    const user = await this.#user(principal.userId);
    await this.#checkPassword(user.id, user.passwordHash, body.currentPassword);
    const passwordHash = await hashPassword(body.newPassword);
    return this.#database.transaction(async (tx) => {
      await tx.update(users).set({ passwordHash, updatedAt: new Date() }).where(eq(users.id, user.id));
      const revoked = await tx
        .update(sessions)
        .set({ revokedAt: new Date(), revokedReason: "password_changed" })
        .where(this.#othersOf(principal))
        .returning({ id: sessions.id });
      return { revoked: revoked.length };
    });
  }

  async listSessions(principal: Principal): Promise<ActiveSession[]> {
    const rows = await this.#database.db
      .select()
      .from(sessions)
      .where(
        and(
          eq(sessions.userId, principal.userId),
          isNull(sessions.revokedAt),
          gt(sessions.expiresAt, new Date()),
        ),
      )
      .orderBy(desc(sessions.lastUsedAt));
    return rows.map((row) => toActiveSession(row, principal.sessionId));
  }

  async revokeOthers(principal: Principal): Promise<SessionsRevoked> {
    const revoked = await this.#database.db
      .update(sessions)
      .set({ revokedAt: new Date(), revokedReason: "signed_out_elsewhere" })
      .where(this.#othersOf(principal))
      .returning({ id: sessions.id });
    return { revoked: revoked.length };
  }

  /** Another user's session, or one already signed out, is not found. */
  async revokeSession(principal: Principal, sessionId: string): Promise<void> {
    const [revoked] = await this.#database.db
      .update(sessions)
      .set({ revokedAt: new Date(), revokedReason: "signed_out_elsewhere" })
      .where(
        and(eq(sessions.id, sessionId), eq(sessions.userId, principal.userId), isNull(sessions.revokedAt)),
      )
      .returning({ id: sessions.id });
    if (!revoked) throw new NotFoundError("session_not_found", "no such session");
  }

  /** The user's live sessions except the caller's own (all of them when the caller used an API token). */
  #othersOf(principal: Principal) {
    const mine = and(eq(sessions.userId, principal.userId), isNull(sessions.revokedAt));
    return principal.sessionId ? and(mine, ne(sessions.id, principal.sessionId)) : mine;
  }

  async #user(userId: string) {
    const [user] = await this.#database.db.select().from(users).where(eq(users.id, userId));
    if (!user) throw new UnauthenticatedError("token_invalid", "user no longer exists");
    return user;
  }

  /** Wrong guesses spend the same budget as log-in; a right one resets it. */
  async #checkPassword(userId: string, stored: string, given: string): Promise<void> {
    const key = `password:${userId}`;
    await this.#passwordLimiter.hit(key);
    if (!(await verifyPassword(stored, given)))
      throw new ForbiddenError("wrong_password", "the current password is wrong");
    await this.#passwordLimiter.reset(key);
  }
}
