import type {
  AdminListQuery,
  AdminOrgList,
  AdminOverview,
  AdminUser,
  AdminUserList,
  SignupPolicy,
  UpdateSignupPolicyBody,
} from "@kiln/protocol";
import { and, desc, eq, gt, ilike, isNotNull, isNull, or, type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { jobs, orgs, sessions, users, workers } from "../db/schema-shared.ts";
import { ConflictError, NotFoundError } from "../errors/errors.ts";
import type { InstanceAdmins } from "./identity.ts";
import type { SignupPolicies } from "./signup-policy.ts";

const PAGE_DEFAULT = 50;
/** A worker not heard from for this long is shown offline. */
const WORKER_ONLINE_MS = 60_000;

/** `q` as a LIKE pattern that matches it anywhere, its own % and _ taken literally. */
function contains(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The instance administrator's view and controls (ADR 0034). Every method checks the caller first; nothing
 * here is reachable through an org's role.
 */
export class AdminService {
  readonly #database: Database;
  readonly #admins: InstanceAdmins;
  readonly #signup: SignupPolicies;

  constructor(database: Database, admins: InstanceAdmins, signup: SignupPolicies) {
    this.#database = database;
    this.#admins = admins;
    this.#signup = signup;
  }

  async overview(callerId: string): Promise<AdminOverview> {
    await this.#admins.require(callerId);
    const db = this.#database.db;
    const count = sql<number>`count(*)::int`;
    const [[people], [suspended], [orgCount], jobStates, fleet] = await Promise.all([
      db.select({ n: count }).from(users).where(isNull(users.deletedAt)),
      db
        .select({ n: count })
        .from(users)
        .where(and(isNull(users.deletedAt), isNotNull(users.suspendedAt))),
      db.select({ n: count }).from(orgs),
      db
        .select({ state: jobs.state, n: count })
        .from(jobs)
        .where(sql`${jobs.state} IN ('queued', 'dispatched', 'running')`)
        .groupBy(jobs.state),
      db
        .select({ worker: workers, slug: orgs.slug })
        .from(workers)
        .leftJoin(orgs, eq(orgs.id, workers.orgId))
        .where(gt(workers.lastSeenAt, sql`now() - interval '1 day'`))
        .orderBy(desc(workers.lastSeenAt))
        .limit(200),
    ]);
    const state = (s: string) => jobStates.find((j) => j.state === s)?.n ?? 0;
    const now = Date.now();
    const list = fleet.map(({ worker, slug }) => ({
      id: worker.id,
      name: worker.name,
      orgId: worker.orgId,
      orgSlug: slug,
      version: worker.version,
      concurrency: worker.concurrency,
      connectedAt: worker.connectedAt.toISOString(),
      lastSeenAt: worker.lastSeenAt.toISOString(),
      online: !worker.disconnectedAt && now - worker.lastSeenAt.getTime() < WORKER_ONLINE_MS,
    }));
    return {
      users: people?.n ?? 0,
      suspendedUsers: suspended?.n ?? 0,
      orgs: orgCount?.n ?? 0,
      workersOnline: list.filter((w) => w.online).length,
      jobsQueued: state("queued"),
      jobsRunning: state("dispatched") + state("running"),
      workers: list,
    };
  }

  async users(callerId: string, query: AdminListQuery): Promise<AdminUserList> {
    await this.#admins.require(callerId);
    const where = and(
      isNull(users.deletedAt),
      query.q ? or(ilike(users.email, contains(query.q)), ilike(users.name, contains(query.q))) : undefined,
    );
    const [rows, [total]] = await Promise.all([
      this.#userRows(where, query.limit ?? PAGE_DEFAULT, query.offset ?? 0),
      this.#database.db.select({ n: sql<number>`count(*)::int` }).from(users).where(where),
    ]);
    return { users: await this.#withAdminFlag(rows), total: total?.n ?? 0 };
  }

  async suspend(callerId: string, userId: string): Promise<AdminUser> {
    await this.#admins.require(callerId);
    if (userId === callerId) throw new ConflictError("conflict", "you cannot suspend your own account");
    await this.#database.transaction(async (tx) => {
      const [user] = await tx
        .update(users)
        .set({ suspendedAt: sql`coalesce(${users.suspendedAt}, now())` })
        .where(and(eq(users.id, userId), isNull(users.deletedAt)))
        .returning({ id: users.id });
      if (!user) throw new NotFoundError("user_not_found", "no such account");
      // Signed out everywhere now; the access tokens already out stop at their next request (the session
      // row is read with each), API tokens stop because the account is suspended.
      await tx
        .update(sessions)
        .set({ revokedAt: new Date(), revokedReason: "suspended" })
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
    });
    return this.#one(userId);
  }

  async unsuspend(callerId: string, userId: string): Promise<AdminUser> {
    await this.#admins.require(callerId);
    const [user] = await this.#database.db
      .update(users)
      .set({ suspendedAt: null })
      .where(and(eq(users.id, userId), isNull(users.deletedAt)))
      .returning({ id: users.id });
    if (!user) throw new NotFoundError("user_not_found", "no such account");
    return this.#one(userId);
  }

  async orgs(callerId: string, query: AdminListQuery): Promise<AdminOrgList> {
    await this.#admins.require(callerId);
    const where = query.q
      ? or(ilike(orgs.name, contains(query.q)), ilike(orgs.slug, contains(query.q)))
      : undefined;
    const members = sql<number>`(SELECT count(*)::int FROM memberships m WHERE m.org_id = orgs.id)`;
    const owners = sql<string[]>`coalesce((SELECT array_agg(u.email ORDER BY u.email) FROM memberships m
      JOIN users u ON u.id = m.user_id WHERE m.org_id = orgs.id AND m.role = 'owner'), '{}')`;
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
    return {
      orgs: rows.map(({ org, members, owners }) => ({
        id: org.id,
        slug: org.slug,
        name: org.name,
        personal: org.personal,
        createdAt: org.createdAt.toISOString(),
        members,
        owners,
      })),
      total: total?.n ?? 0,
    };
  }

  async signupPolicy(callerId: string): Promise<SignupPolicy> {
    await this.#admins.require(callerId);
    return this.#signup.get();
  }

  async updateSignupPolicy(callerId: string, body: UpdateSignupPolicyBody): Promise<SignupPolicy> {
    await this.#admins.require(callerId);
    return this.#signup.set(body, callerId);
  }

  async #one(userId: string): Promise<AdminUser> {
    const rows = await this.#userRows(eq(users.id, userId), 1, 0);
    const [user] = await this.#withAdminFlag(rows);
    if (!user) throw new NotFoundError("user_not_found", "no such account");
    return user;
  }

  #userRows(where: SQL | undefined, limit: number, offset: number) {
    const orgCount = sql<number>`(SELECT count(*)::int FROM memberships m WHERE m.user_id = users.id)`;
    return this.#database.db
      .select({ user: users, orgs: orgCount })
      .from(users)
      .where(where)
      .orderBy(desc(users.createdAt), desc(users.id))
      .limit(limit)
      .offset(offset);
  }

  async #withAdminFlag(rows: Array<{ user: typeof users.$inferSelect; orgs: number }>): Promise<AdminUser[]> {
    const admins = await this.#admins.adminIds();
    return rows.map(({ user, orgs: memberOf }) => ({
      id: user.id,
      email: user.email,
      name: user.name,
      emailVerified: Boolean(user.emailVerifiedAt),
      createdAt: user.createdAt.toISOString(),
      suspendedAt: user.suspendedAt?.toISOString() ?? null,
      instanceAdmin: admins.has(user.id),
      orgs: memberOf,
    }));
  }
}
