import type {
  AdminListQuery,
  AdminOrg,
  AdminOrgDetail,
  AdminOrgList,
  AdminUsageQuery,
  AdminUsageReport,
  Role,
} from "@kiln/protocol";
import { asc, desc, eq, ilike, or, sql } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import type { Database } from "../db/client.ts";
import { memberships, orgs, users } from "../db/schema-shared.ts";
import { projects } from "../db/schema-tenant.ts";
import { ConflictError, NotFoundError } from "../errors/errors.ts";
import type { OrgService } from "../orgs/service.ts";
import type { InstanceAdmins } from "./identity.ts";
import { contains, PAGE_DEFAULT } from "./search.ts";
import { instanceUsage, NO_USAGE, usageOf, usageRange } from "./usage.ts";

const members = sql<number>`(SELECT count(*)::int FROM memberships m WHERE m.org_id = orgs.id)`;
const owners = sql<string[]>`coalesce((SELECT array_agg(u.email ORDER BY u.email) FROM memberships m
  JOIN users u ON u.id = m.user_id WHERE m.org_id = orgs.id AND m.role = 'owner'), '{}')`;

function toAdminOrg(r: { org: typeof orgs.$inferSelect; members: number; owners: string[] }): AdminOrg {
  return {
    id: r.org.id,
    slug: r.org.slug,
    name: r.org.name,
    personal: r.org.personal,
    createdAt: r.org.createdAt.toISOString(),
    members: r.members,
    owners: r.owners,
  };
}

/**
 * The instance administrator's orgs (ADR 0034): every org, one in detail (members, projects, model usage),
 * deleting one, and the whole instance's model usage and cost. Every method checks the caller first.
 */
export class AdminOrgs {
  readonly #database: Database;
  readonly #admins: InstanceAdmins;
  readonly #orgs: OrgService;

  constructor(deps: { database: Database; admins: InstanceAdmins; orgs: OrgService }) {
    this.#database = deps.database;
    this.#admins = deps.admins;
    this.#orgs = deps.orgs;
  }

  async list(callerId: string, query: AdminListQuery): Promise<AdminOrgList> {
    await this.#admins.require(callerId);
    const where = query.q
      ? or(ilike(orgs.name, contains(query.q)), ilike(orgs.slug, contains(query.q)))
      : undefined;
    const [rows, [total]] = await Promise.all([
      this.#database.db
        .select({ org: orgs, members, owners })
        .from(orgs)
        .where(where)
        .orderBy(desc(orgs.createdAt), desc(orgs.id))
        .limit(query.limit ?? PAGE_DEFAULT)
        .offset(query.offset ?? 0),
      this.#database.db.select({ n: sql<number>`count(*)::int` }).from(orgs).where(where),
    ]);
    return { orgs: rows.map(toAdminOrg), total: total?.n ?? 0 };
  }

  async detail(callerId: string, orgId: string): Promise<AdminOrgDetail> {
    await this.#admins.require(callerId);
    const [row] = await this.#database.db
      .select({ org: orgs, members, owners })
      .from(orgs)
      .where(eq(orgs.id, orgId));
    if (!row) throw new NotFoundError("org_not_found", "no such org");
    const { from, to } = usageRange({});
    const [people, inTenant] = await Promise.all([
      this.#database.db
        .select({ userId: users.id, email: users.email, name: users.name, role: memberships.role })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(eq(memberships.orgId, orgId))
        .orderBy(asc(memberships.createdAt), asc(users.email)),
      this.#database.tenant(row.org.schemaName, async (tx) => {
        const [count] = await tx.select({ n: sql<number>`count(*)::int` }).from(projects);
        const usage = await usageOf(tx, [row.org], from, to);
        return { projects: count?.n ?? 0, usage: usage.get(orgId) ?? NO_USAGE };
      }),
    ]);
    return {
      org: toAdminOrg(row),
      members: people.map((p) => ({ ...p, role: p.role as Role })),
      projects: inTenant.projects,
      usage: { ...inTenant.usage, from: from.toISOString(), to: to.toISOString() },
    };
  }

  /**
   * Deletes an org as its owner would (sandboxes stopped, files removed: OrgService). A personal org goes
   * only with its account: `409 org_is_personal`. The admin's record and the org's own `org.deleted`
   * commit with the drop.
   */
  async delete(callerId: string, orgId: string): Promise<void> {
    await this.#admins.require(callerId);
    const [org] = await this.#database.db.select().from(orgs).where(eq(orgs.id, orgId));
    if (!org) throw new NotFoundError("org_not_found", "no such org");
    if (org.personal) {
      throw new ConflictError(
        "org_is_personal",
        "a personal org goes with its account: delete the account instead",
      );
    }
    const removed = await this.#orgs.removeByAdmin(org, callerId, (tx) =>
      recordAudit(tx, {
        orgId: null,
        action: "admin.org_deleted",
        actor: userActor({ userId: callerId }),
        target: { type: "org", id: org.id, label: org.name },
        data: { slug: org.slug, name: org.name },
      }),
    );
    if (!removed) throw new NotFoundError("org_not_found", "no such org");
  }

  async usage(callerId: string, query: AdminUsageQuery): Promise<AdminUsageReport> {
    await this.#admins.require(callerId);
    return this.#database.transaction((tx) => instanceUsage(tx, query));
  }
}
