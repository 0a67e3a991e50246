import { randomUUID } from "node:crypto";
import { type Org, type Role, slugify } from "@kiln/protocol";
import { and, desc, eq, isNotNull, sql } from "drizzle-orm";
import { type AuditActor, recordAudit, SYSTEM_ACTOR, userActor } from "../audit/index.ts";
import type { LimitsConfig } from "../config.ts";
import { assertSchemaName, type Database, type Executor } from "../db/client.ts";
import { pgErrorCode, UNIQUE_VIOLATION } from "../db/errors.ts";
import { createTenantSchema } from "../db/migrate.ts";
import { memberships, orgSso, orgSsoDomains, orgs, sessions, users } from "../db/schema-shared.ts";
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from "../errors/errors.ts";
import { assertOrgRoom } from "../limits/counts.ts";
import { requirePermission } from "./roles.ts";
import { isReservedSlug, looksLikeId, schemaNameFor, withSuffix } from "./slug.ts";

export type OrgRow = typeof orgs.$inferSelect;

/** An org as seen by one member: what every org-scoped service receives. */
export interface OrgAccess {
  org: OrgRow;
  role: Role;
  userId: string;
}

export function toOrg(row: OrgRow, role: Role): Org {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    personal: row.personal,
    role,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The org's files on disk (projects/storage.ts); declared here because projects sit above orgs. */
export interface OrgFiles {
  removeOrg(orgId: string): Promise<void>;
}

export class OrgService {
  readonly #database: Database;
  readonly #storage: OrgFiles;
  readonly #deleteListeners: Array<(orgId: string) => Promise<void>> = [];
  readonly #limits: LimitsConfig | undefined;

  /** `limits`: orgs per user (`orgsPerUser`); none when not given. */
  constructor(database: Database, storage: OrgFiles, limits?: LimitsConfig) {
    this.#database = database;
    this.#storage = storage;
    this.#limits = limits;
  }

  /** Runs after an org's schema is dropped and before its files are removed. */
  onDelete(listener: (orgId: string) => Promise<void>): void {
    this.#deleteListeners.push(listener);
  }

  /** Inserts the org, its owner membership and its schema in the caller's transaction. */
  async createInTx(
    tx: Executor,
    input: { name: string; slug: string; ownerId: string; personal?: boolean },
  ): Promise<OrgRow> {
    if (isReservedSlug(input.slug)) throw new BadRequestError("slug_reserved", `"${input.slug}" is reserved`);
    const id = randomUUID();
    const schemaName = schemaNameFor(input.slug);
    const [row] = await tx
      .insert(orgs)
      .values({
        id,
        slug: input.slug,
        name: input.name,
        schemaName,
        personal: input.personal ?? false,
        createdBy: input.ownerId,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) throw new ConflictError("slug_taken", `an org with slug "${input.slug}" already exists`);
    await tx.insert(memberships).values({ orgId: id, userId: input.ownerId, role: "owner" });
    await createTenantSchema(tx, id, schemaName);
    await recordAudit(tx, {
      orgId: id,
      action: "org.created",
      actor: { type: "user", userId: input.ownerId },
      target: { type: "org", id, label: row.name },
      data: { name: row.name, slug: row.slug, personal: row.personal },
    });
    return row;
  }

  async create(userId: string, input: { name: string; slug: string }): Promise<Org> {
    const row = await this.#database.transaction(async (tx) => {
      if (this.#limits) await assertOrgRoom(tx, userId, this.#limits);
      return this.createInTx(tx, { ...input, ownerId: userId });
    });
    return toOrg(row, "owner");
  }

  /** The personal org made at sign-up: slug from the email, with a suffix when that is taken. */
  async createPersonalInTx(tx: Executor, userId: string, email: string, name: string): Promise<OrgRow> {
    const base = slugify(email.split("@")[0] ?? "", "me");
    let slug = isReservedSlug(base) ? withSuffix(base) : base;
    for (let attempt = 0; ; attempt++) {
      try {
        // Insert-and-see rather than check-then-insert: a concurrent sign-up with the same local part may
        // hold the slug in a transaction we cannot see yet. ON CONFLICT DO NOTHING waits for it and leaves
        // this transaction usable, so the next suffix can be tried in place.
        return await this.createInTx(tx, {
          name: `${name}'s workspace`,
          slug,
          ownerId: userId,
          personal: true,
        });
      } catch (err) {
        if (!(err instanceof ConflictError && err.code === "slug_taken") || attempt >= 5) throw err;
        slug = withSuffix(base);
      }
    }
  }

  async listForUser(userId: string): Promise<Org[]> {
    const result = await this.#database.db
      .select({ org: orgs, role: memberships.role })
      .from(orgs)
      .innerJoin(memberships, and(eq(memberships.orgId, orgs.id), eq(memberships.userId, userId)))
      .orderBy(desc(orgs.personal), orgs.name);
    return result.map((r) => toOrg(r.org, r.role as Role));
  }

  /** An org by id for server-side callers that already proved their right to it (a job's token). */
  async row(id: string): Promise<OrgRow> {
    const [row] = await this.#database.db.select().from(orgs).where(eq(orgs.id, id)).limit(1);
    if (!row) throw new NotFoundError("org_not_found", "org not found");
    return row;
  }

  /**
   * The org named by id or slug, as the given user may see it. A non-member gets the same 404 as for an
   * org that does not exist, so ids and slugs of other tenants cannot be probed.
   */
  /**
   * The caller's access to an org (404 when not a member). With `via` (the request's credentials), an org
   * bound to a single sign-on provider for the member's proven email domain (ADR 0031) also needs a session
   * begun through that provider: a password session or an API token gets 403 `sso_required`. Owners are
   * exempt (the way back in when the provider fails).
   */
  async access(
    userId: string,
    ref: string,
    via?: { sessionId?: string | undefined; apiTokenId?: string | undefined },
  ): Promise<OrgAccess> {
    // An id-shaped ref is an id only: a slug spelled like it (refused now, but possible in older data)
    // must never resolve in its place.
    const match = looksLikeId(ref) ? eq(orgs.id, ref.toLowerCase()) : eq(orgs.slug, ref);
    const [found] = await this.#database.db
      .select({
        org: orgs,
        role: memberships.role,
        ssoProvider: orgSso.provider,
        boundDomain: orgSsoDomains.domain,
      })
      .from(orgs)
      .innerJoin(memberships, and(eq(memberships.orgId, orgs.id), eq(memberships.userId, userId)))
      .innerJoin(users, eq(users.id, memberships.userId))
      .leftJoin(orgSso, eq(orgSso.orgId, orgs.id))
      .leftJoin(
        orgSsoDomains,
        and(
          eq(orgSsoDomains.orgId, orgs.id),
          isNotNull(orgSsoDomains.verifiedAt),
          eq(orgSsoDomains.domain, sql`split_part(lower(${users.email}), '@', 2)`),
        ),
      )
      .where(match)
      .limit(1);
    if (!found) throw new NotFoundError("org_not_found", "org not found");
    const role = found.role as Role;
    if (via && found.ssoProvider && found.boundDomain && role !== "owner") {
      await this.#requireSso(found.ssoProvider, via);
    }
    return { org: found.org, role, userId };
  }

  async #requireSso(provider: string, via: { sessionId?: string | undefined }): Promise<void> {
    if (via.sessionId) {
      const [session] = await this.#database.db
        .select({ provider: sessions.ssoProvider })
        .from(sessions)
        .where(eq(sessions.id, via.sessionId));
      if (session?.provider === provider) return;
    }
    throw new ForbiddenError(
      "sso_required",
      "this org asks its members to sign in through its single sign-on provider",
      { provider },
    );
  }

  async update(
    access: OrgAccess,
    input: { name?: string | undefined; slug?: string | undefined },
  ): Promise<Org> {
    requirePermission(access.role, "org.update");
    const { org } = access;
    const slug = input.slug ?? org.slug;
    if (slug !== org.slug && isReservedSlug(slug))
      throw new BadRequestError("slug_reserved", `"${slug}" is reserved`);
    try {
      const row = await this.#database.transaction(async (tx) => {
        if (slug !== org.slug) {
          // The schema follows the slug; ALTER SCHEMA is transactional, so a failed update renames nothing.
          await tx.execute(
            sql.raw(
              `ALTER SCHEMA "${assertSchemaName(org.schemaName)}" RENAME TO "${assertSchemaName(schemaNameFor(slug))}"`,
            ),
          );
        }
        const [updated] = await tx
          .update(orgs)
          .set({ name: input.name ?? org.name, slug, schemaName: schemaNameFor(slug), updatedAt: new Date() })
          .where(eq(orgs.id, org.id))
          .returning();
        const changed: Record<string, string> = {};
        const previous: Record<string, string> = {};
        if (updated && updated.name !== org.name) [changed.name, previous.name] = [updated.name, org.name];
        if (updated && updated.slug !== org.slug) [changed.slug, previous.slug] = [updated.slug, org.slug];
        if (updated && Object.keys(changed).length > 0) {
          await recordAudit(tx, {
            orgId: org.id,
            action: "org.updated",
            actor: userActor(access),
            target: { type: "org", id: org.id, label: updated.name },
            data: { fields: Object.keys(changed), ...changed, previous },
          });
        }
        return updated;
      });
      if (!row) throw new NotFoundError("org_not_found", "org not found");
      return toOrg(row, access.role);
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION || pgErrorCode(err) === "42P06") {
        throw new ConflictError("slug_taken", `an org with slug "${slug}" already exists`);
      }
      throw err;
    }
  }

  async delete(access: OrgAccess): Promise<void> {
    requirePermission(access.role, "org.delete");
    if (access.org.personal) {
      throw new ForbiddenError(
        "personal_org",
        "a personal org cannot be deleted; delete the account instead",
      );
    }
    await this.#remove(access.org, undefined, userActor(access));
  }

  /**
   * Deletes an org with its last member's account (auth/account-deletion.ts): a personal org always (it
   * is the account's own, whoever else was let in), any other org only if nobody joined it in between —
   * then it stays, and its earliest member becomes its owner if it has none.
   */
  async removeWithAccount(org: OrgRow): Promise<boolean> {
    return this.#remove(
      org,
      async (tx) => {
        if (org.personal) return true;
        const members = await tx
          .select({ userId: memberships.userId, role: memberships.role })
          .from(memberships)
          .where(eq(memberships.orgId, org.id))
          .orderBy(memberships.createdAt);
        const first = members[0];
        if (!first) return true;
        if (!members.some((m) => m.role === "owner")) {
          await tx
            .update(memberships)
            .set({ role: "owner" })
            .where(and(eq(memberships.orgId, org.id), eq(memberships.userId, first.userId)));
        }
        return false;
      },
      SYSTEM_ACTOR,
    );
  }

  /**
   * The instance administrator deletes an org (ADR 0034; a personal one is the caller's to refuse): as its
   * owner would, plus `within` (the admin's own record) in the same transaction. False if already gone.
   */
  async removeByAdmin(
    org: OrgRow,
    adminId: string,
    within: (tx: Executor) => Promise<void>,
  ): Promise<boolean> {
    return this.#remove(
      org,
      async (tx) => {
        await within(tx);
        return true;
      },
      { type: "user", userId: adminId },
    );
  }

  /**
   * `actor`: who deleted it (Kiln itself when it goes with its last member's account). `stillWanted` runs
   * in the transaction, the org row locked: false keeps the org.
   */
  async #remove(
    org: OrgRow,
    stillWanted: ((tx: Executor) => Promise<boolean>) | undefined,
    actor: AuditActor,
  ): Promise<boolean> {
    const removed = await this.#database.transaction(async (tx) => {
      // Lock the row first so a concurrent request that resolved this org waits and then finds it gone.
      const [locked] = await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, org.id)).for("update");
      if (!locked || (stillWanted && !(await stillWanted(tx)))) return false;
      // Kept after the org is gone (the log has no foreign key to it): who deleted what, and when.
      await recordAudit(tx, {
        orgId: org.id,
        action: "org.deleted",
        actor,
        target: { type: "org", id: org.id, label: org.name },
        data: { name: org.name, slug: org.slug, personal: org.personal },
      });
      await tx.execute(sql.raw(`DROP SCHEMA IF EXISTS "${assertSchemaName(org.schemaName)}" CASCADE`));
      await tx.delete(orgs).where(eq(orgs.id, org.id));
      return true;
    });
    if (!removed) return false;
    for (const listener of this.#deleteListeners) await listener(org.id);
    await this.#storage.removeOrg(org.id);
    return true;
  }
}
