import { randomBytes } from "node:crypto";
import { type OrgSso, type PutOrgSsoBody, ROLES, type Role } from "@kiln/protocol";
import { and, eq, inArray, isNotNull, sql } from "drizzle-orm";
import { recordAudit, userActor } from "../../audit/index.ts";
import type { Database, Executor } from "../../db/client.ts";
import { pgErrorCode, UNIQUE_VIOLATION } from "../../db/errors.ts";
import { memberships, orgSso, orgSsoDomains } from "../../db/schema-shared.ts";
import type { ChallengeLookup } from "../../domains/dns-check.ts";
import { normalizeHostname, type ReservedNames } from "../../domains/hostname.ts";
import { ConflictError, NotFoundError } from "../../errors/errors.ts";
import type { OrgAccess } from "../../orgs/service.ts";
import type { OidcClients } from "./clients.ts";

type SsoRow = typeof orgSso.$inferSelect;
type DomainRow = typeof orgSsoDomains.$inferSelect;

/** Higher wins when a person's groups map to several roles. */
const RANK = Object.fromEntries(ROLES.map((r, i) => [r, ROLES.length - i])) as Record<Role, number>;

/**
 * Org single sign-on (ADR 0031). An admin binds the org to one of the instance's providers for email
 * domains; a domain counts only once a DNS TXT record proves the org holds it (otherwise any org could pull
 * in everyone of `gmail.com` signing in with Google). Then a person of a verified domain who signs in
 * through that provider joins the org just in time, with the role their `groups` claim maps to (or the
 * default); the memberships it made it may change or take back, those made otherwise it leaves alone.
 */
export class OrgSsoService {
  readonly #database: Database;
  readonly #clients: OidcClients;
  readonly #lookup: ChallengeLookup;
  readonly #reserved: ReservedNames;

  constructor(deps: {
    database: Database;
    clients: OidcClients;
    lookup: ChallengeLookup;
    reserved: ReservedNames;
  }) {
    this.#database = deps.database;
    this.#clients = deps.clients;
    this.#lookup = deps.lookup;
    this.#reserved = deps.reserved;
  }

  async get(access: OrgAccess): Promise<OrgSso | null> {
    const [row] = await this.#database.db.select().from(orgSso).where(eq(orgSso.orgId, access.org.id));
    if (!row) return null;
    return toOrgSso(row, await this.#domains(access.org.id));
  }

  async put(access: OrgAccess, body: PutOrgSsoBody): Promise<OrgSso> {
    if (!this.#clients.provider(body.provider))
      throw new NotFoundError("sign_in_provider_not_found", `no sign-in provider "${body.provider}" here`);
    const domains = [...new Set(body.domains.map((d) => normalizeHostname(d, this.#reserved)))];
    await this.#database.transaction(async (tx) => {
      await tx
        .insert(orgSso)
        .values({
          orgId: access.org.id,
          provider: body.provider,
          defaultRole: body.defaultRole,
          groupRoles: body.groupRoles,
        })
        .onConflictDoUpdate({
          target: orgSso.orgId,
          set: {
            provider: body.provider,
            defaultRole: body.defaultRole,
            groupRoles: body.groupRoles,
            updatedAt: new Date(),
          },
        });
      await recordAudit(tx, {
        orgId: access.org.id,
        action: "sso.updated",
        actor: userActor(access),
        target: { type: "sso", id: access.org.id, label: body.provider },
        // The groups as a list: a group's name is the provider's, never a key checked for secrets.
        data: {
          provider: body.provider,
          domains,
          defaultRole: body.defaultRole,
          groupRoles: Object.entries(body.groupRoles).map(([group, role]) => ({ group, role })),
        },
      });
      const kept = await tx.select().from(orgSsoDomains).where(eq(orgSsoDomains.orgId, access.org.id));
      const gone = kept.filter((d) => !domains.includes(d.domain)).map((d) => d.domain);
      if (gone.length > 0)
        await tx
          .delete(orgSsoDomains)
          .where(and(eq(orgSsoDomains.orgId, access.org.id), inArray(orgSsoDomains.domain, gone)));
      const fresh = domains.filter((d) => !kept.some((k) => k.domain === d));
      if (fresh.length > 0)
        await tx.insert(orgSsoDomains).values(
          fresh.map((domain) => ({
            orgId: access.org.id,
            domain,
            token: `kiln-sso=${randomBytes(16).toString("hex")}`,
          })),
        );
    });
    return (await this.get(access))!;
  }

  async remove(access: OrgAccess): Promise<void> {
    await this.#database.transaction(async (tx) => {
      await tx.delete(orgSsoDomains).where(eq(orgSsoDomains.orgId, access.org.id));
      const gone = await tx
        .delete(orgSso)
        .where(eq(orgSso.orgId, access.org.id))
        .returning({ provider: orgSso.provider });
      if (gone[0]) {
        await recordAudit(tx, {
          orgId: access.org.id,
          action: "sso.removed",
          actor: userActor(access),
          target: { type: "sso", id: access.org.id, label: gone[0].provider },
          data: { provider: gone[0].provider },
        });
      }
    });
  }

  /** Looks up each unverified domain's TXT record; a verified one another org holds is `domain_taken`. */
  async verify(access: OrgAccess): Promise<OrgSso> {
    const current = await this.get(access);
    if (!current) throw new NotFoundError("sso_not_configured", "this org has no single sign-on binding");
    for (const d of current.domains.filter((x) => !x.verified)) {
      const result = await this.#lookup(d.domain, d.token);
      try {
        await this.#database.db
          .update(orgSsoDomains)
          .set(result.ok ? { verifiedAt: new Date(), lastError: null } : { lastError: result.reason })
          .where(and(eq(orgSsoDomains.orgId, access.org.id), eq(orgSsoDomains.domain, d.domain)));
      } catch (err) {
        if (pgErrorCode(err) !== UNIQUE_VIOLATION) throw err;
        throw new ConflictError("domain_taken", `${d.domain} is already bound to another organization`);
      }
    }
    return (await this.get(access))!;
  }

  /**
   * In the sign-in's transaction: joins the person to every org bound to `provider` for their verified
   * address's domain, or updates the role of a membership single sign-on made before.
   */
  async provision(
    tx: Executor,
    userId: string,
    provider: string,
    email: string,
    groups: string[],
  ): Promise<void> {
    const domain = email.split("@")[1]?.toLowerCase();
    if (!domain) return;
    const bound = await tx
      .select({ sso: orgSso })
      .from(orgSso)
      .innerJoin(orgSsoDomains, eq(orgSsoDomains.orgId, orgSso.orgId))
      .where(
        and(
          eq(orgSso.provider, provider),
          eq(orgSsoDomains.domain, domain),
          isNotNull(orgSsoDomains.verifiedAt),
        ),
      );
    for (const { sso } of bound) {
      const role = roleFor(sso, groups);
      const [written] = await tx
        .insert(memberships)
        .values({ orgId: sso.orgId, userId, role, viaSso: true })
        .onConflictDoUpdate({
          target: [memberships.orgId, memberships.userId],
          set: { role },
          // Only what single sign-on made; an owner or an invited member keeps their role.
          setWhere: sql`${memberships.viaSso} = true`,
        })
        // xmax is 0 on a row this statement inserted, set on one it updated.
        .returning({ inserted: sql<boolean>`(xmax = 0)` });
      if (written?.inserted) {
        await recordAudit(tx, {
          orgId: sso.orgId,
          action: "member.joined",
          actor: { type: "user", userId },
          target: { type: "user", id: userId, label: email },
          data: { role, via: "sso", provider },
        });
      }
    }
  }

  /** Whether some org took `email`'s domain for `provider` (a proven domain): its people may join through it. */
  async bindsDomain(provider: string, email: string, ex: Executor = this.#database.db): Promise<boolean> {
    const domain = email.split("@")[1]?.toLowerCase();
    if (!domain) return false;
    const [bound] = await ex
      .select({ orgId: orgSso.orgId })
      .from(orgSso)
      .innerJoin(orgSsoDomains, eq(orgSsoDomains.orgId, orgSso.orgId))
      .where(
        and(
          eq(orgSso.provider, provider),
          eq(orgSsoDomains.domain, domain),
          isNotNull(orgSsoDomains.verifiedAt),
        ),
      )
      .limit(1);
    return Boolean(bound);
  }

  /** The provider no longer vouches for the person: the memberships single sign-on gave are taken back. */
  async deprovision(userId: string, provider: string): Promise<void> {
    const bound = this.#database.db
      .select({ orgId: orgSso.orgId })
      .from(orgSso)
      .where(eq(orgSso.provider, provider));
    await this.#database.db
      .delete(memberships)
      .where(
        and(eq(memberships.userId, userId), eq(memberships.viaSso, true), inArray(memberships.orgId, bound)),
      );
  }

  async #domains(orgId: string): Promise<DomainRow[]> {
    return this.#database.db
      .select()
      .from(orgSsoDomains)
      .where(eq(orgSsoDomains.orgId, orgId))
      .orderBy(orgSsoDomains.domain);
  }
}

function roleFor(sso: SsoRow, groups: string[]): Role {
  const map = sso.groupRoles as Record<string, Role>;
  let best = sso.defaultRole as Role;
  let matched = false;
  for (const g of groups) {
    const role = map[g];
    if (role && (!matched || RANK[role] > RANK[best])) {
      best = role;
      matched = true;
    }
  }
  return best;
}

function toOrgSso(row: SsoRow, domains: DomainRow[]): OrgSso {
  return {
    provider: row.provider,
    domains: domains.map((d) => ({
      domain: d.domain,
      verified: d.verifiedAt !== null,
      token: d.token,
      lastError: d.lastError,
    })),
    defaultRole: row.defaultRole as OrgSso["defaultRole"],
    groupRoles: row.groupRoles as OrgSso["groupRoles"],
    updatedAt: row.updatedAt.toISOString(),
  };
}
