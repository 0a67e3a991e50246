import { randomUUID } from "node:crypto";
import type { Invitation, Role } from "@kiln/protocol";
import { and, eq, gt, isNull } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import { hashToken, opaqueToken } from "../auth/tokens.ts";
import type { Database, Executor } from "../db/client.ts";
import { invitations, memberships, orgs, users } from "../db/schema-shared.ts";
import { ConflictError, ForbiddenError, KilnError, NotFoundError } from "../errors/errors.ts";
import type { Mailer } from "../mail/mailer.ts";
import { addMemberInTx } from "../members/service.ts";
import type { OrgEvents } from "../orgs/events.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";

type InvitationRow = typeof invitations.$inferSelect;

export interface InvitationOptions {
  publicUrl: string;
  ttlDays: number;
  log: { warn(obj: object, msg: string): void };
  /** `member.joined`, once an invitation is accepted. */
  events?: OrgEvents;
}

function toInvitation(row: InvitationRow): Invitation {
  return {
    id: row.id,
    orgId: row.orgId,
    email: row.email,
    role: row.role as Role,
    invitedBy: row.invitedBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    acceptedAt: row.acceptedAt?.toISOString() ?? null,
  };
}

export class InvitationService {
  readonly #database: Database;
  readonly #mailer: Mailer;
  readonly #options: InvitationOptions;

  constructor(database: Database, mailer: Mailer, options: InvitationOptions) {
    this.#database = database;
    this.#mailer = mailer;
    this.#options = options;
  }

  async create(
    access: OrgAccess,
    input: { email: string; role: Role },
  ): Promise<Invitation & { url: string; emailSent: boolean }> {
    requirePermission(access.role, "invitations.manage");
    if (input.role === "owner" && access.role !== "owner") {
      throw new ForbiddenError("forbidden", "only an owner can invite an owner");
    }
    // An invitation mails the instance's users' words to any address: only someone with a proven
    // address of their own may send one.
    await requireVerified(
      this.#database.db,
      access.userId,
      "verify your email address before inviting anyone",
    );
    const token = opaqueToken("inv_");
    const row = await this.#database.transaction(async (tx) => {
      const [member] = await tx
        .select({ id: users.id })
        .from(users)
        .innerJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.orgId, access.org.id)))
        .where(eq(users.email, input.email));
      if (member) throw new ConflictError("already_member", `${input.email} is already a member`);
      // A new invitation replaces any pending one for the same address.
      const replaced = await tx
        .update(invitations)
        .set({ revokedAt: new Date() })
        .where(
          and(
            eq(invitations.orgId, access.org.id),
            eq(invitations.email, input.email),
            isNull(invitations.acceptedAt),
            isNull(invitations.revokedAt),
          ),
        )
        .returning({ id: invitations.id, email: invitations.email, role: invitations.role });
      const [created] = await tx
        .insert(invitations)
        .values({
          id: randomUUID(),
          orgId: access.org.id,
          email: input.email,
          role: input.role,
          tokenHash: hashToken(token),
          invitedBy: access.userId,
          expiresAt: new Date(Date.now() + this.#options.ttlDays * 86_400_000),
        })
        .returning();
      await recordAudit(
        tx,
        ...replaced.map((r) => ({
          orgId: access.org.id,
          action: "invitation.revoked" as const,
          actor: userActor(access),
          target: { type: "invitation", id: r.id, label: r.email },
          data: { role: r.role, replacedById: created!.id },
        })),
        {
          orgId: access.org.id,
          action: "invitation.created",
          actor: userActor(access),
          target: { type: "invitation", id: created!.id, label: created!.email },
          data: { role: created!.role },
        },
      );
      return created!;
    });
    const url = `${this.#options.publicUrl}/invite/${token}`;
    let emailSent = true;
    try {
      await this.#mailer.send({
        to: input.email,
        subject: `You are invited to ${access.org.name} on Kiln`,
        text: `You have been invited to join ${access.org.name} as ${input.role}.\n\nAccept: ${url}\n\nThe link expires on ${row.expiresAt.toISOString()}.`,
      });
    } catch (err) {
      // The invitation stands; the inviter gets the link in the response and can pass it on.
      emailSent = false;
      this.#options.log.warn({ err, invitationId: row.id }, "invitation email could not be sent");
    }
    return { ...toInvitation(row), url, emailSent };
  }

  async list(access: OrgAccess): Promise<Invitation[]> {
    requirePermission(access.role, "invitations.manage");
    const rows = await this.#database.db
      .select()
      .from(invitations)
      .where(
        and(
          eq(invitations.orgId, access.org.id),
          isNull(invitations.acceptedAt),
          isNull(invitations.revokedAt),
          gt(invitations.expiresAt, new Date()),
        ),
      )
      .orderBy(invitations.createdAt);
    return rows.map(toInvitation);
  }

  async revoke(access: OrgAccess, id: string): Promise<void> {
    requirePermission(access.role, "invitations.manage");
    await this.#database.transaction(async (tx) => {
      const [done] = await tx
        .update(invitations)
        .set({ revokedAt: new Date() })
        .where(
          and(eq(invitations.id, id), eq(invitations.orgId, access.org.id), isNull(invitations.revokedAt)),
        )
        .returning({ id: invitations.id, email: invitations.email, role: invitations.role });
      if (!done) throw new NotFoundError("invitation_not_found", "invitation not found");
      await recordAudit(tx, {
        orgId: access.org.id,
        action: "invitation.revoked",
        actor: userActor(access),
        target: { type: "invitation", id: done.id, label: done.email },
        data: { role: done.role },
      });
    });
  }

  async preview(token: string) {
    const { invitation, org } = await this.#find(token);
    return {
      orgName: org.name,
      orgSlug: org.slug,
      email: invitation.email,
      role: invitation.role as Role,
      expiresAt: invitation.expiresAt.toISOString(),
    };
  }

  /**
   * Joins the org. The signed-in user's email must be the invited one and proven (a code or link mailed
   * to it): a forwarded link is not enough, nor is an account that merely typed the address in.
   */
  async accept(token: string, user: { userId: string }): Promise<{ orgId: string; role: Role }> {
    const joined = await this.#database.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(invitations)
        .where(eq(invitations.tokenHash, hashToken(token)))
        .for("update");
      assertUsable(row);
      const account = await requireVerified(
        tx,
        user.userId,
        "verify your email address before accepting an invitation",
      );
      if (row.email.toLowerCase() !== account.email.toLowerCase()) {
        throw new ForbiddenError(
          "invitation_email_mismatch",
          "this invitation was sent to another email address",
        );
      }
      const added = await addMemberInTx(tx, row.orgId, user.userId, row.role as Role);
      if (!added) throw new ConflictError("already_member", "you are already a member of this org");
      await tx
        .update(invitations)
        .set({ acceptedAt: new Date(), acceptedBy: user.userId })
        .where(eq(invitations.id, row.id));
      await recordAudit(tx, {
        orgId: row.orgId,
        action: "member.joined",
        actor: userActor(user),
        target: { type: "user", id: user.userId, label: account.email },
        data: { role: row.role, via: "invitation", invitationId: row.id },
      });
      return { orgId: row.orgId, role: row.role as Role };
    });
    this.#options.events?.emit(joined.orgId, "member.joined", null, {
      member: { userId: user.userId, role: joined.role, via: "invitation" },
    });
    return joined;
  }

  async #find(token: string) {
    const [found] = await this.#database.db
      .select({ invitation: invitations, org: orgs })
      .from(invitations)
      .innerJoin(orgs, eq(orgs.id, invitations.orgId))
      .where(eq(invitations.tokenHash, hashToken(token)));
    assertUsable(found?.invitation);
    return found!;
  }
}

/** A verified account is never displaced from its address, so reading it once is enough. */
async function requireVerified(db: Executor, userId: string, message: string): Promise<{ email: string }> {
  const [account] = await db
    .select({ email: users.email, verifiedAt: users.emailVerifiedAt })
    .from(users)
    .where(eq(users.id, userId));
  if (!account?.verifiedAt) throw new ForbiddenError("email_not_verified", message);
  return account;
}

function assertUsable(row: InvitationRow | undefined): asserts row is InvitationRow {
  if (!row || row.revokedAt || row.acceptedAt)
    throw new NotFoundError("invitation_not_found", "invitation not found");
  if (row.expiresAt.getTime() <= Date.now()) {
    throw new KilnError("invitation_expired", "this invitation has expired; ask for a new one");
  }
}
