import type { SignupPolicy, UpdateSignupPolicyBody } from "@kiln/protocol";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
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

  async get(): Promise<SignupPolicy> {
    const [row] = await this.#database.db
      .select()
      .from(instanceSettings)
      .where(eq(instanceSettings.key, KEY));
    const value = (row?.value ?? {}) as Partial<UpdateSignupPolicyBody>;
    return {
      mode: this.#envOpen ? (value.mode ?? "open") : "closed",
      domains: value.domains ?? [],
      updatedAt: row ? row.updatedAt.toISOString() : null,
    };
  }

  async set(body: UpdateSignupPolicyBody, by: string): Promise<SignupPolicy> {
    const value = { mode: body.mode, domains: [...new Set(body.domains)] };
    await this.#database.db
      .insert(instanceSettings)
      .values({ key: KEY, value, updatedBy: by })
      .onConflictDoUpdate({
        target: instanceSettings.key,
        set: { value, updatedBy: by, updatedAt: new Date() },
      });
    return this.get();
  }

  /** Refuses a sign-up the policy does not allow, with a reason the person can act on. */
  async assertAllowed(email: string): Promise<void> {
    const policy = await this.get();
    if (policy.mode === "open") return;
    const [anyone] = await this.#database.db.select({ id: users.id }).from(users).limit(1);
    if (!anyone) return;
    const address = email.toLowerCase();
    if (policy.mode !== "closed" && (await this.#invited(address))) return;
    if (policy.mode === "domains" && policy.domains.includes(address.slice(address.lastIndexOf("@") + 1))) {
      return;
    }
    const why = {
      closed: "sign-up is closed on this instance",
      invite_only: "sign-up on this instance needs an invitation to this address",
      domains: "sign-up on this instance is for invited addresses and some domains only",
    }[policy.mode];
    throw new ForbiddenError("signup_not_allowed", why);
  }

  async #invited(email: string): Promise<boolean> {
    const [pending] = await this.#database.db
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
