import { createHmac, randomInt, randomUUID, timingSafeEqual } from "node:crypto";
import type { EmailVerified, ErrorCode, VerificationSent } from "@kiln/protocol";
import { and, eq, inArray, isNotNull, isNull, ne, sql } from "drizzle-orm";
import type { Database, Executor } from "../db/client.ts";
import { DEADLOCK_DETECTED, pgErrorCode, SERIALIZATION_FAILURE, UNIQUE_VIOLATION } from "../db/errors.ts";
import {
  apiTokens,
  emailVerifications,
  invitations,
  memberships,
  sessions,
  users,
} from "../db/schema-shared.ts";
import { ConflictError, KilnError, UnauthenticatedError } from "../errors/errors.ts";
import type { Mailer } from "../mail/mailer.ts";
import type { RateLimiter } from "./rate-limiter.ts";
import { hashToken, opaqueToken } from "./tokens.ts";

/** A code is typed from a phone: short-lived, and dead after a few wrong tries. A link is a 256-bit secret. */
export const CODE_TTL_MS = 60 * 60_000;
export const LINK_TTL_MS = 24 * 3_600_000;
export const CODE_ATTEMPTS = 5;

export interface EmailVerificationOptions {
  publicUrl: string;
  log: { warn(obj: object, msg: string): void };
}

type Row = typeof emailVerifications.$inferSelect;
type Failure = { code: ErrorCode; message: string };

const INVALID: Failure = {
  code: "verification_invalid",
  message: "this code or link is not valid; request a new one",
};

/**
 * Proves that an account's owner reads its email address. Until then the account holds no claim on the
 * address: it cannot accept invitations to it, and any number of other unverified accounts may name it.
 * The first account to verify gets the address; the others naming it are displaced (signed out, their
 * API tokens revoked, memberships they got by accepting invitations removed), so a pre-claim made
 * before the owner arrived is undone by the owner verifying.
 */
export class EmailVerificationService {
  readonly #database: Database;
  readonly #mailer: Mailer;
  readonly #codeKey: Uint8Array;
  readonly #sendLimiter: RateLimiter;
  readonly #addressLimiter: RateLimiter;
  readonly #attemptLimiter: RateLimiter;
  readonly #options: EmailVerificationOptions;

  constructor(deps: {
    database: Database;
    mailer: Mailer;
    codeKey: Uint8Array;
    /** Per account. */
    sendLimiter: RateLimiter;
    /** Per address, across accounts: sign-ups naming one address must not flood its inbox. */
    addressLimiter: RateLimiter;
    attemptLimiter: RateLimiter;
    options: EmailVerificationOptions;
  }) {
    this.#database = deps.database;
    this.#mailer = deps.mailer;
    this.#codeKey = deps.codeKey;
    this.#sendLimiter = deps.sendLimiter;
    this.#addressLimiter = deps.addressLimiter;
    this.#attemptLimiter = deps.attemptLimiter;
    this.#options = deps.options;
  }

  /** Mails a fresh code and link to the account's address; an earlier one stops working. */
  async send(userId: string): Promise<VerificationSent> {
    const [user] = await this.#database.db.select().from(users).where(eq(users.id, userId));
    if (!user) throw new UnauthenticatedError("token_invalid", "user no longer exists");
    if (user.emailVerifiedAt)
      throw new ConflictError("email_already_verified", "this email address is already verified");
    await this.#sendLimiter.hit(`verify-send:${userId}`);
    await this.#addressLimiter.hit(`verify-mail:${user.email.toLowerCase()}`);
    const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
    const link = opaqueToken("kev_");
    const id = randomUUID();
    const now = Date.now();
    const codeExpiresAt = new Date(now + CODE_TTL_MS);
    const expiresAt = new Date(now + LINK_TTL_MS);
    await this.#database.transaction(async (tx) => {
      await tx.delete(emailVerifications).where(eq(emailVerifications.userId, userId));
      await tx.insert(emailVerifications).values({
        id,
        userId,
        email: user.email,
        linkHash: hashToken(link),
        codeHash: this.#codeHash(id, code),
        codeExpiresAt,
        expiresAt,
      });
    });
    const url = `${this.#options.publicUrl}/verify-email/${link}`;
    let emailSent = true;
    try {
      await this.#mailer.send({
        to: user.email,
        subject: `Your Kiln verification code: ${code}`,
        text: [
          `Your Kiln verification code is ${code}. It expires in an hour.`,
          "",
          `Or confirm ${user.email} by opening this link (valid for 24 hours):`,
          url,
          "",
          "If you did not create a Kiln account, ignore this email: nobody can use this address on Kiln without it.",
        ].join("\n"),
      });
    } catch (err) {
      emailSent = false;
      this.#options.log.warn({ err, userId }, "verification email could not be sent");
    }
    return { email: user.email, emailSent, codeExpiresAt: codeExpiresAt.toISOString() };
  }

  /** The code typed by the signed-in user; it only ever matches that user's own pending verification. */
  async verifyCode(userId: string, code: string): Promise<EmailVerified> {
    await this.#attemptLimiter.hit(`verify-code:${userId}`);
    return this.#settle(async (tx) => {
      const [row] = await tx
        .select()
        .from(emailVerifications)
        .where(eq(emailVerifications.userId, userId))
        .for("update");
      if (!row) return { failure: INVALID };
      if (row.codeExpiresAt.getTime() <= Date.now() || row.codeAttempts >= CODE_ATTEMPTS) {
        return {
          failure: {
            code: "verification_expired",
            message: "this code has expired or had too many wrong tries; request a new one",
          },
        };
      }
      if (!this.#codeMatches(row, code)) {
        // Counted in the same transaction that read it: parallel guesses cannot share one attempt.
        await tx
          .update(emailVerifications)
          .set({ codeAttempts: sql`${emailVerifications.codeAttempts} + 1` })
          .where(eq(emailVerifications.id, row.id));
        return { failure: { ...INVALID, message: "wrong code" } };
      }
      return this.#complete(tx, row);
    });
  }

  /** The secret from the emailed link; no session needed, it names its account itself. */
  async verifyLink(token: string): Promise<EmailVerified> {
    return this.#settle(async (tx) => {
      const [row] = await tx
        .select()
        .from(emailVerifications)
        .where(eq(emailVerifications.linkHash, hashToken(token)))
        .for("update");
      if (!row) return { failure: INVALID };
      if (row.expiresAt.getTime() <= Date.now()) {
        return {
          failure: {
            code: "verification_expired",
            message: "this link has expired; request a new one",
          },
        };
      }
      return this.#complete(tx, row);
    });
  }

  /** Runs a verification transaction; a failure is thrown after commit, so counted attempts stay counted. */
  async #settle(
    work: (tx: Executor) => Promise<{ failure: Failure } | { done: EmailVerified }>,
  ): Promise<EmailVerified> {
    let outcome: { failure: Failure } | { done: EmailVerified } | undefined;
    for (let attempt = 1; !outcome; attempt++) {
      try {
        outcome = await this.#database.transaction(work);
      } catch (err) {
        const code = pgErrorCode(err);
        // Two accounts verifying the same address at once: the partial unique index lets one through.
        if (code === UNIQUE_VIOLATION) throw addressTaken();
        // Each holds its own pending row and reaches for the other's while displacing it: PostgreSQL aborts
        // one. Run it again: it then sees the winner's commit (address taken, or itself displaced).
        if ((code === DEADLOCK_DETECTED || code === SERIALIZATION_FAILURE) && attempt < 3) continue;
        throw err;
      }
    }
    if ("failure" in outcome) {
      const { code, message } = outcome.failure;
      throw new KilnError(code, message);
    }
    return outcome.done;
  }

  async #complete(tx: Executor, row: Row): Promise<{ failure: Failure } | { done: EmailVerified }> {
    const [user] = await tx.select().from(users).where(eq(users.id, row.userId)).for("update");
    if (!user || user.email.toLowerCase() !== row.email.toLowerCase()) return { failure: INVALID };
    const address = user.email.toLowerCase();
    const [holder] = await tx
      .select({ id: users.id })
      .from(users)
      .where(
        and(eq(sql`lower(${users.email})`, address), isNotNull(users.emailVerifiedAt), ne(users.id, user.id)),
      );
    if (holder) throw addressTaken();
    await tx.update(users).set({ emailVerifiedAt: new Date() }).where(eq(users.id, user.id));
    await tx.delete(emailVerifications).where(eq(emailVerifications.userId, user.id));
    await displaceOthers(tx, user.id, address);
    return { done: { email: user.email, emailVerified: true } };
  }

  #codeHash(id: string, code: string): string {
    return createHmac("sha256", this.#codeKey).update(`${id}:${code}`).digest("base64url");
  }

  #codeMatches(row: Row, code: string): boolean {
    const given = Buffer.from(this.#codeHash(row.id, code));
    const stored = Buffer.from(row.codeHash);
    return given.length === stored.length && timingSafeEqual(given, stored);
  }
}

function addressTaken(): ConflictError {
  return new ConflictError("email_taken", "another account has already verified this email address");
}

/**
 * The other accounts naming an address that has just been proven never proved it: they are signed out
 * everywhere (log-in now finds the verified account only) and lose what the address got them.
 */
async function displaceOthers(tx: Executor, ownerId: string, address: string): Promise<void> {
  const others = await tx
    .select({ id: users.id })
    .from(users)
    .where(
      and(eq(sql`lower(${users.email})`, address), isNull(users.emailVerifiedAt), ne(users.id, ownerId)),
    );
  const ids = others.map((o) => o.id);
  if (ids.length === 0) return;
  const now = new Date();
  await tx
    .update(sessions)
    .set({ revokedAt: now, revokedReason: "email_claimed" })
    .where(and(inArray(sessions.userId, ids), isNull(sessions.revokedAt)));
  await tx
    .update(apiTokens)
    .set({ revokedAt: now })
    .where(and(inArray(apiTokens.userId, ids), isNull(apiTokens.revokedAt)));
  await tx.delete(emailVerifications).where(inArray(emailVerifications.userId, ids));
  // Memberships that came from accepting an invitation to this address were the address's, not theirs.
  const joined = await tx
    .select({ orgId: invitations.orgId, userId: invitations.acceptedBy })
    .from(invitations)
    .where(inArray(invitations.acceptedBy, ids));
  for (const j of joined) {
    if (!j.userId) continue;
    await tx.delete(memberships).where(and(eq(memberships.orgId, j.orgId), eq(memberships.userId, j.userId)));
  }
}
