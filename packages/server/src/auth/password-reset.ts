import { randomUUID } from "node:crypto";
import type { AdminPasswordReset, ErrorCode, PasswordResetRequested } from "@kiln/protocol";
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import type { Database, Executor } from "../db/client.ts";
import { passwordResets, sessions, users } from "../db/schema-shared.ts";
import { ForbiddenError, KilnError, NotFoundError } from "../errors/errors.ts";
import type { Mailer } from "../mail/mailer.ts";
import { hashPassword } from "./passwords.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { hashToken, opaqueToken } from "./tokens.ts";

/** A reset link is short-lived: it is a way into the account for whoever reads the mail. */
export const RESET_TTL_MS = 30 * 60_000;

export interface PasswordResetOptions {
  publicUrl: string;
  log: { warn(obj: object, msg: string): void };
}

type Refusal = { code: Extract<ErrorCode, "reset_invalid" | "reset_expired">; message: string };

const INVALID: Refusal = {
  code: "reset_invalid",
  message: "this reset link is not valid (it may have been used already, or replaced by a newer one)",
};

/**
 * "Forgot password": a single-use link mailed to the address of the verified account using it. Only a
 * verified account owns its address (auth/email-verification.ts), so an unverified one is never reset
 * this way: its owner signs up again. The answer to a request is the same whether or not such an account
 * exists, and the mail goes out after the answer, so neither the words nor the timing tell. Using the link
 * sets the password, ends every session of the account and every other link, in one transaction.
 */
export class PasswordResetService {
  readonly #database: Database;
  readonly #mailer: Mailer;
  readonly #addressLimiter: RateLimiter;
  readonly #clientLimiter: RateLimiter;
  readonly #options: PasswordResetOptions;
  /** Mails on their way (tests and shutdown wait for them). */
  readonly #sending = new Set<Promise<void>>();

  constructor(deps: {
    database: Database;
    mailer: Mailer;
    /** Per address: nobody floods an inbox with reset mails. */
    addressLimiter: RateLimiter;
    /** Per client address: for requests and for tries of a token. */
    clientLimiter: RateLimiter;
    options: PasswordResetOptions;
  }) {
    this.#database = deps.database;
    this.#mailer = deps.mailer;
    this.#addressLimiter = deps.addressLimiter;
    this.#clientLimiter = deps.clientLimiter;
    this.#options = deps.options;
  }

  async request(email: string, clientIp: string): Promise<PasswordResetRequested> {
    const address = email.toLowerCase();
    await this.#clientLimiter.hit(`reset:${clientIp}`);
    await this.#addressLimiter.hit(`reset-mail:${address}`);
    const answer = { email, expiresInMinutes: RESET_TTL_MS / 60_000 };
    const [user] = await this.#database.db
      .select({ id: users.id, email: users.email })
      .from(users)
      .where(and(eq(sql`lower(${users.email})`, address), isNotNull(users.emailVerifiedAt)));
    if (!user) return answer;
    const token = await this.#database.transaction((tx) => this.#issue(tx, user));
    this.#send(user.email, token, "requested");
    return answer;
  }

  /**
   * The instance administrator's reset (ADR 0034) of one account, by id: no rate limit and no
   * anti-enumeration (the admin sees every account anyway). It signs the account out everywhere and mails
   * the same single-use link as "forgot password"; `within` runs in the same transaction (the admin's
   * audit record). An unverified address is refused: the link would not work for it (see `reset`).
   */
  async issueFor(
    userId: string,
    within?: (tx: Executor, user: { id: string; email: string }) => Promise<void>,
  ): Promise<AdminPasswordReset> {
    const { email, token, sessionsRevoked } = await this.#database.transaction(async (tx) => {
      const [user] = await tx
        .select({ id: users.id, email: users.email, verified: users.emailVerifiedAt, gone: users.deletedAt })
        .from(users)
        .where(eq(users.id, userId))
        .for("update");
      if (!user || user.gone) throw new NotFoundError("user_not_found", "no such account");
      if (!user.verified) {
        throw new ForbiddenError(
          "email_not_verified",
          "this account's address is not verified, so a reset link would not work for it",
        );
      }
      const revoked = await tx
        .update(sessions)
        .set({ revokedAt: new Date(), revokedReason: "admin_password_reset" })
        .where(and(eq(sessions.userId, user.id), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id });
      const token = await this.#issue(tx, user);
      await within?.(tx, user);
      return { email: user.email, token, sessionsRevoked: revoked.length };
    });
    this.#send(email, token, "admin");
    return { email, expiresInMinutes: RESET_TTL_MS / 60_000, sessionsRevoked };
  }

  /** A new link for `user`, replacing any earlier one; answers the token to mail. */
  async #issue(tx: Executor, user: { id: string; email: string }): Promise<string> {
    const token = opaqueToken("kpr_");
    await tx.delete(passwordResets).where(eq(passwordResets.userId, user.id));
    await tx.insert(passwordResets).values({
      id: randomUUID(),
      userId: user.id,
      email: user.email,
      tokenHash: hashToken(token),
      expiresAt: new Date(Date.now() + RESET_TTL_MS),
    });
    return token;
  }

  /** Mails the link after the answer; tracked so tests and shutdown can wait for it. */
  #send(to: string, token: string, why: "requested" | "admin"): void {
    const sending = this.#mail(to, token, why).finally(() => this.#sending.delete(sending));
    this.#sending.add(sending);
  }

  /** Sets the password; answers the account's id for the new session. */
  async reset(token: string, password: string, clientIp: string): Promise<string> {
    await this.#clientLimiter.hit(`reset:${clientIp}`);
    // Hashed before the transaction: it takes a while, and holds nothing.
    const passwordHash = await hashPassword(password);
    const outcome = await this.#database.transaction(
      async (tx): Promise<{ refused: Refusal } | { userId: string }> => {
        const [row] = await tx
          .select()
          .from(passwordResets)
          .where(eq(passwordResets.tokenHash, hashToken(token)))
          .for("update");
        if (!row) return { refused: INVALID };
        await tx.delete(passwordResets).where(eq(passwordResets.id, row.id));
        if (row.expiresAt.getTime() <= Date.now()) {
          return {
            refused: { code: "reset_expired", message: "this reset link has expired; ask for a new one" },
          };
        }
        const [user] = await tx.select().from(users).where(eq(users.id, row.userId)).for("update");
        // The address changed (or lost its proof) since the mail went out: the link was for another one.
        if (!user?.emailVerifiedAt || user.email.toLowerCase() !== row.email.toLowerCase())
          return { refused: INVALID };
        await tx.update(users).set({ passwordHash, updatedAt: new Date() }).where(eq(users.id, user.id));
        await tx
          .update(sessions)
          .set({ revokedAt: new Date(), revokedReason: "password_reset" })
          .where(and(eq(sessions.userId, user.id), isNull(sessions.revokedAt)));
        return { userId: user.id };
      },
    );
    // Thrown after the transaction: the used or expired link stays deleted.
    if ("refused" in outcome) throw new KilnError(outcome.refused.code, outcome.refused.message);
    return outcome.userId;
  }

  /** Waits for the mails already on their way. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#sending]);
  }

  async #mail(to: string, token: string, why: "requested" | "admin"): Promise<void> {
    const url = `${this.#options.publicUrl}/reset-password/${token}`;
    const choose = [
      `Choose a new password here (the link works once, for ${RESET_TTL_MS / 60_000} minutes):`,
      url,
    ];
    try {
      await this.#mailer.send({
        to,
        subject: "Reset your Kiln password",
        text: (why === "admin"
          ? [
              "The administrator of this Kiln signed the account using this address out everywhere and asks",
              "you to choose a new password.",
              "",
              ...choose,
              "",
              "Until then your current password still signs you in.",
            ]
          : [
              "Someone (hopefully you) asked to reset the password of the Kiln account using this address.",
              "",
              ...choose,
              "",
              "Resetting signs the account out everywhere. If you did not ask for this, ignore this email:",
              "your password stays as it is.",
            ]
        ).join("\n"),
      });
    } catch (err) {
      this.#options.log.warn({ err }, "password reset email could not be sent");
    }
  }
}
