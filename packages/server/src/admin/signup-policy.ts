import type { SignupPolicy, UpdateSignupPolicyBody } from "@kiln/protocol";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Database, Executor } from "../db/client.ts";
import { instanceSettings, invitations, users } from "../db/schema-shared.ts";
import { ForbiddenError } from "../errors/errors.ts";

const KEY = "signup";

/**
 * Who may make an account (ADR 0034). KILN_SIGNUP_OPEN=false closes sign-up whatever the setting says; an
 * instance without a single account always lets its first one in (the operator).
 */
export class SignupPolicies {
  readonly #database: Database;
  readonly #envOpen: boolean;

  constructor(database: Database, envOpen: boolean) {
    this.#database = database;
    this.#envOpen = envOpen;
  }

  async get(ex: Executor = this.#database.db): Promise<SignupPolicy> {
    const [row] = await ex.select().from(instanceSettings).where(eq(instanceSettings.key, KEY));
    const value = (row?.value ?? {}) as Partial<UpdateSignupPolicyBody>;
    return {
      mode: this.#envOpen ? (value.mode ?? "open") : "closed",
      domains: value.domains ?? [],
      updatedAt: row ? row.updatedAt.toISOString() : null,
    };
  }

  /** `within`: the admin's audit record, in the same transaction (it gets the policy before and after). */
  async set(
    body: UpdateSignupPolicyBody,
    by: string,
    within?: (tx: Executor, before: SignupPolicy, after: UpdateSignupPolicyBody) => Promise<void>,
  ): Promise<SignupPolicy> {
    const value = { mode: body.mode, domains: [...new Set(body.domains)] };
    return this.#database.transaction(async (tx) => {
      const before = await this.get(tx);
      await tx
        .insert(instanceSettings)
        .values({ key: KEY, value, updatedBy: by })
        .onConflictDoUpdate({
          target: instanceSettings.key,
          set: { value, updatedBy: by, updatedAt: new Date() },
        });
      await within?.(tx, before, value);
      return this.get(tx);
    });
  }

  /** Whether the policy lets `email` make an account now (`ex`: the caller's transaction, if in one). */
  async allows(email: string, ex: Executor = this.#database.db): Promise<boolean> {
    return (await this.#refusal(email, ex)) === undefined;
  }

  /** Refuses a sign-up the policy does not allow, with a reason the person can act on. */
  async assertAllowed(email: string): Promise<void> {
    const why = await this.#refusal(email, this.#database.db);
    if (why) throw new ForbiddenError("signup_not_allowed", why);
  }

  async #refusal(email: string, ex: Executor): Promise<string | undefined> {
    const policy = await this.get(ex);
    if (policy.mode === "open") return undefined;
    const [anyone] = await ex.select({ id: users.id }).from(users).limit(1);
    if (!anyone) return undefined;
    const address = email.toLowerCase();
    if (policy.mode !== "closed" && (await this.#invited(address, ex))) return undefined;
    if (policy.mode === "domains" && policy.domains.includes(address.slice(address.lastIndexOf("@") + 1))) {
      return undefined;
    }
    return {
      closed: "sign-up is closed on this instance",
      invite_only: "sign-up on this instance needs an invitation to this address",
      domains: "sign-up on this instance is for invited addresses and some domains only",
    }[policy.mode];
  }

  async #invited(email: string, ex: Executor): Promise<boolean> {
    const [pending] = await ex
      .select({ id: invitations.id })
      .from(invitations)
      .where(
        and(
          eq(sql`lower(${invitations.email})`, email),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
          gt(invitations.expiresAt, new Date()),
        ),
      )
      .limit(1);
    return Boolean(pending);
  }
}
