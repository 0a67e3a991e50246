import type { AccountDeletionPlan } from "@kiln/protocol";
import { and, asc, eq, inArray, isNull, ne, sql } from "drizzle-orm";
import type { Database, Executor } from "../db/client.ts";
import {
  apiTokens,
  emailVerifications,
  memberships,
  orgs,
  passwordResets,
  sessions,
  userIdentities,
  users,
} from "../db/schema-shared.ts";
import { ConflictError, ForbiddenError, NotFoundError, UnauthenticatedError } from "../errors/errors.ts";
import type { Principal } from "../http/principal.ts";
import type { OrgRow, OrgService } from "../orgs/service.ts";
import { verifyPassword } from "./passwords.ts";
import type { RateLimiter } from "./rate-limiter.ts";

type Plan = { deletes: OrgRow[]; blockedBy: OrgRow[]; leaves: OrgRow[] };

const view = (org: OrgRow) => ({ id: org.id, slug: org.slug, name: org.name, personal: org.personal });

/** What a deleted account is kept as: no address, no way in, a name that says what happened. */
export const DELETED_NAME = "Deleted user";

/**
 * Deleting an account. Nothing is left without an owner:
 * - its personal org goes with it, projects and all (members it let in lose access; the plan says so);
 * - an org it alone is in goes with it;
 * - an org where it is the last owner but others are members blocks the deletion until someone else is
 *   made owner (or the org is deleted): Kiln does not pick a new owner for people;
 * - any other org it simply leaves.
 * The account's row stays, scrubbed (no address, no password, "Deleted user"), so what it did — tasks,
 * comments, chat turns, deployments — still names someone; its sessions, API tokens and pending links go.
 */
export class AccountDeletionService {
  readonly #database: Database;
  readonly #orgs: OrgService;
  readonly #passwordLimiter: RateLimiter;

  constructor(deps: { database: Database; orgs: OrgService; passwordLimiter: RateLimiter }) {
    this.#database = deps.database;
    this.#orgs = deps.orgs;
    this.#passwordLimiter = deps.passwordLimiter;
  }

  async plan(principal: Principal): Promise<AccountDeletionPlan> {
    return this.planFor(principal.userId);
  }

  /** The plan for any account (the instance administrator's view of someone's); `user_not_found` if gone. */
  async planFor(userId: string): Promise<AccountDeletionPlan> {
    const plan = await this.#database.transaction(async (tx) => {
      const [user] = await tx.select({ gone: users.deletedAt }).from(users).where(eq(users.id, userId));
      if (!user || user.gone) throw new NotFoundError("user_not_found", "no such account");
      return planFor(tx, userId, false);
    });
    return {
      deletes: plan.deletes.map(view),
      blockedBy: plan.blockedBy.map(view),
      leaves: plan.leaves.map(view),
    };
  }

  /** The account's owner deletes it, with its password. */
  async delete(principal: Principal, password: string): Promise<void> {
    const [user] = await this.#database.db.select().from(users).where(eq(users.id, principal.userId));
    if (!user || user.deletedAt) throw new UnauthenticatedError("token_invalid", "user no longer exists");
    const key = `password:${user.id}`;
    await this.#passwordLimiter.hit(key);
    if (!(await verifyPassword(user.passwordHash, password)))
      throw new ForbiddenError("wrong_password", "the password is wrong");
    await this.#passwordLimiter.reset(key);
    await this.deleteAccount(user.id);
  }

  /**
   * Deletes the account by the rules above: by its owner (`delete`) or by the instance administrator (ADR
   * 0034), whose audit record `within` writes in the same transaction. `user_not_found` if already gone;
   * `last_owner` (naming the orgs) if an org would be left without an owner.
   */
  async deleteAccount(
    userId: string,
    within?: (tx: Executor, user: { id: string; email: string; name: string }) => Promise<void>,
  ): Promise<void> {
    const plan = await this.#database.transaction(async (tx) => {
      const [user] = await tx.select().from(users).where(eq(users.id, userId)).for("update");
      if (!user || user.deletedAt) throw new NotFoundError("user_not_found", "no such account");
      const planned = await planFor(tx, user.id, true);
      if (planned.blockedBy.length > 0) {
        throw new ConflictError(
          "last_owner",
          `the account is the last owner of ${planned.blockedBy.map((o) => `"${o.name}"`).join(", ")}: make someone else an owner there, or delete it, first`,
          { orgs: planned.blockedBy.map(view) },
        );
      }
      // Before the scrub: the record names the account as it was.
      await within?.(tx, user);
      const now = new Date();
      await tx.delete(memberships).where(eq(memberships.userId, user.id));
      await tx
        .update(sessions)
        .set({ revokedAt: now, revokedReason: "account_deleted" })
        .where(and(eq(sessions.userId, user.id), isNull(sessions.revokedAt)));
      await tx.delete(apiTokens).where(eq(apiTokens.userId, user.id));
      await tx.delete(emailVerifications).where(eq(emailVerifications.userId, user.id));
      await tx.delete(passwordResets).where(eq(passwordResets.userId, user.id));
      // Its sign-in identities go too: signing in there again makes a new account.
      await tx.delete(userIdentities).where(eq(userIdentities.userId, user.id));
      await tx
        .update(users)
        .set({
          // Never a deliverable address, never one anyone can sign up with or verify (RFC 2606 .invalid).
          email: `deleted-${user.id}@deleted.invalid`,
          name: DELETED_NAME,
          // Not an argon2 hash: no password verifies against it.
          passwordHash: "!deleted",
          emailVerifiedAt: null,
          deletedAt: now,
          updatedAt: now,
        })
        .where(eq(users.id, user.id));
      return planned;
    });
    // After the commit: dropping an org stops its sandboxes and removes its files (OrgService).
    for (const org of plan.deletes) await this.#orgs.removeWithAccount(org);
  }
}

/**
 * Sorts the user's orgs. With `lock`, the org rows are locked first, in one order, as membership changes
 * lock them (members/service.ts): a co-owner cannot step down while the deletion decides.
 */
async function planFor(tx: Executor, userId: string, lock: boolean): Promise<Plan> {
  const mine = await tx
    .select({ org: orgs, role: memberships.role })
    .from(memberships)
    .innerJoin(orgs, eq(orgs.id, memberships.orgId))
    .where(eq(memberships.userId, userId))
    .orderBy(asc(orgs.id));
  if (lock && mine.length > 0) {
    await tx
      .select({ id: orgs.id })
      .from(orgs)
      .where(
        inArray(
          orgs.id,
          mine.map((m) => m.org.id),
        ),
      )
      .orderBy(asc(orgs.id))
      .for("no key update");
  }
  const ids = mine.map((m) => m.org.id);
  const others =
    ids.length === 0
      ? []
      : await tx
          .select({
            orgId: memberships.orgId,
            members: sql<number>`count(*)::int`,
            owners: sql<number>`(count(*) filter (where ${memberships.role} = 'owner'))::int`,
          })
          .from(memberships)
          .where(and(inArray(memberships.orgId, ids), ne(memberships.userId, userId)))
          .groupBy(memberships.orgId);
  const count = new Map(others.map((o) => [o.orgId, o]));
  const plan: Plan = { deletes: [], blockedBy: [], leaves: [] };
  for (const { org, role } of mine) {
    const rest = count.get(org.id);
    if (org.personal || !rest) plan.deletes.push(org);
    else if (role === "owner" && rest.owners === 0) plan.blockedBy.push(org);
    else plan.leaves.push(org);
  }
  return plan;
}
