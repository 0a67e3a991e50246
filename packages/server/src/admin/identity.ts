import { and, asc, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { users } from "../db/schema-shared.ts";
import { ForbiddenError } from "../errors/errors.ts";

/**
 * Who administers the instance (ADR 0034): the verified, active accounts whose address KILN_ADMIN_EMAILS
 * names; without that list, the first verified account (the operator who set the instance up). Read at each
 * request: a suspended or deleted admin stops being one at once.
 */
export class InstanceAdmins {
  readonly #database: Database;
  readonly #emails: ReadonlySet<string>;

  constructor(database: Database, adminEmails: readonly string[]) {
    this.#database = database;
    this.#emails = new Set(adminEmails.map((e) => e.trim().toLowerCase()).filter(Boolean));
  }

  async isAdmin(userId: string): Promise<boolean> {
    const [user] = await this.#database.db
      .select({
        email: users.email,
        verified: users.emailVerifiedAt,
        gone: users.deletedAt,
        suspended: users.suspendedAt,
      })
      .from(users)
      .where(eq(users.id, userId));
    if (!user?.verified || user.gone || user.suspended) return false;
    if (this.#emails.size > 0) return this.#emails.has(user.email.toLowerCase());
    return (await this.#first()) === userId;
  }

  /** The first verified account still here: the instance's admin when no list names one. */
  async #first(): Promise<string | undefined> {
    const [first] = await this.#database.db
      .select({ id: users.id })
      .from(users)
      .where(and(isNotNull(users.emailVerifiedAt), isNull(users.deletedAt)))
      .orderBy(asc(users.createdAt), asc(users.id))
      .limit(1);
    return first?.id;
  }

  /** Every account that is an instance admin now. */
  async adminIds(): Promise<Set<string>> {
    const active = and(isNotNull(users.emailVerifiedAt), isNull(users.deletedAt), isNull(users.suspendedAt));
    if (this.#emails.size > 0) {
      const rows = await this.#database.db
        .select({ id: users.id })
        .from(users)
        .where(and(active, inArray(sql`lower(${users.email})`, [...this.#emails])));
      return new Set(rows.map((r) => r.id));
    }
    const first = await this.#first();
    return new Set(first ? [first] : []);
  }

  async require(userId: string): Promise<void> {
    if (!(await this.isAdmin(userId))) {
      throw new ForbiddenError("not_instance_admin", "only the instance administrator can do this");
    }
  }
}
