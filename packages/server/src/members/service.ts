import type { Member, Role } from "@kiln/protocol";
import { and, eq } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import type { Database, Executor } from "../db/client.ts";
import { memberships, orgs, users } from "../db/schema-shared.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "../errors/errors.ts";
import { NO_EVENTS, type OrgEvents } from "../orgs/events.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";

export class MemberService {
  readonly #database: Database;
  readonly #events: OrgEvents;

  /** `events`: `member.removed` (left or removed). */
  constructor(database: Database, events: OrgEvents = NO_EVENTS) {
    this.#database = database;
    this.#events = events;
  }

  async list(access: OrgAccess): Promise<Member[]> {
    requirePermission(access.role, "members.read");
    const rows = await this.#database.db
      .select({
        userId: users.id,
        email: users.email,
        name: users.name,
        role: memberships.role,
        joinedAt: memberships.createdAt,
      })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(eq(memberships.orgId, access.org.id))
      .orderBy(users.email);
    return rows.map((r) => ({ ...r, role: r.role as Role, joinedAt: r.joinedAt.toISOString() }));
  }

  async updateRole(access: OrgAccess, userId: string, role: Role): Promise<Member> {
    requirePermission(access.role, "members.manage");
    await this.#database.transaction(async (tx) => {
      const target = await this.#lockMember(tx, access.org.id, userId);
      // Only an owner may make an owner or change what an owner is.
      if ((role === "owner" || target.role === "owner") && access.role !== "owner") {
        throw new ForbiddenError("forbidden", "only an owner can grant or change the owner role");
      }
      if (target.role === "owner" && role !== "owner") await this.#assertNotLastOwner(tx, access.org.id);
      await tx
        .update(memberships)
        .set({ role })
        .where(and(eq(memberships.orgId, access.org.id), eq(memberships.userId, userId)));
      if (target.role !== role) {
        await recordAudit(tx, {
          orgId: access.org.id,
          action: "member.role_changed",
          actor: userActor(access),
          target: { type: "user", id: userId, label: target.email },
          data: { from: target.role, to: role },
        });
      }
    });
    const member = (await this.list(access)).find((m) => m.userId === userId);
    if (!member) throw new NotFoundError("member_not_found", "member not found");
    return member;
  }

  /** Removes a member (admins) or lets a member leave. Access ends with the commit: every request re-checks. */
  async remove(access: OrgAccess, userId: string): Promise<void> {
    const self = userId === access.userId;
    if (!self) requirePermission(access.role, "members.manage");
    await this.#database.transaction(async (tx) => {
      const target = await this.#lockMember(tx, access.org.id, userId);
      if (!self && target.role === "owner" && access.role !== "owner") {
        throw new ForbiddenError("forbidden", "only an owner can remove an owner");
      }
      if (target.role === "owner") await this.#assertNotLastOwner(tx, access.org.id);
      await tx
        .delete(memberships)
        .where(and(eq(memberships.orgId, access.org.id), eq(memberships.userId, userId)));
      await recordAudit(tx, {
        orgId: access.org.id,
        action: self ? "member.left" : "member.removed",
        actor: userActor(access),
        target: { type: "user", id: userId, label: target.email },
        data: { role: target.role },
      });
    });
    this.#events.emit(access.org.id, "member.removed", null, {
      member: { userId, removedBy: access.userId, left: self },
    });
  }

  async #lockMember(tx: Executor, orgId: string, userId: string): Promise<{ role: Role; email: string }> {
    // The org row first: membership changes in one org then queue. Otherwise two owners leaving at once
    // each hold their own row while waiting for the other's in #assertNotLastOwner, and PostgreSQL breaks
    // the deadlock by failing one of them. NO KEY UPDATE still lets invitations insert memberships (FK).
    await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, orgId)).for("no key update");
    const [row] = await tx
      .select({ role: memberships.role, email: users.email })
      .from(memberships)
      .innerJoin(users, eq(users.id, memberships.userId))
      .where(and(eq(memberships.orgId, orgId), eq(memberships.userId, userId)))
      .for("update", { of: memberships });
    if (!row) throw new NotFoundError("member_not_found", "member not found");
    return { role: row.role as Role, email: row.email };
  }

  async #assertNotLastOwner(tx: Executor, orgId: string): Promise<void> {
    // Lock every owner row so two concurrent demotions cannot both see "another owner remains".
    const owners = await tx
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(and(eq(memberships.orgId, orgId), eq(memberships.role, "owner")))
      .for("update");
    if (owners.length <= 1) {
      throw new ConflictError("last_owner", "an org needs at least one owner; make someone else owner first");
    }
  }
}

export async function addMemberInTx(
  tx: Executor,
  orgId: string,
  userId: string,
  role: Role,
): Promise<boolean> {
  const inserted = await tx
    .insert(memberships)
    .values({ orgId, userId, role })
    .onConflictDoNothing()
    .returning({ userId: memberships.userId });
  return inserted.length > 0;
}
