import { randomBytes, randomUUID } from "node:crypto";
import { type AddDomainBody, DOMAIN_CHALLENGE_LABEL, type Domain } from "@kiln/protocol";
import { and, asc, count, eq, ne } from "drizzle-orm";
import { recordAudit, userActor } from "../audit/index.ts";
import type { Database, Executor } from "../db/client.ts";
import { pgErrorCode, UNIQUE_VIOLATION } from "../db/errors.ts";
import { domainClaims } from "../db/schema-shared.ts";
import { customDomains } from "../db/schema-tenant.ts";
import { ConflictError, NotFoundError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ChallengeLookup } from "./dns-check.ts";
import { normalizeHostname, type ReservedNames } from "./hostname.ts";
import type { DomainLookup } from "./lookup.ts";

type Row = typeof customDomains.$inferSelect;

/** Custom domains per project: a site has a few names, not hundreds. */
const MAX_PER_PROJECT = 20;

export interface DomainServiceOptions {
  database: Database;
  projects: ProjectService;
  reserved: ReservedNames;
  /** The TXT lookup (dns-check.ts) through the operator's resolvers. */
  challenge: ChallengeLookup;
  /** Serving's cache of hostnames (lookup.ts): told when one changes here. */
  lookup: DomainLookup;
}

/**
 * Custom domains (ADR 0026). An admin adds a hostname to a project: it gets a random token and is pending.
 * "Verify" looks up `_kiln-challenge.<hostname>` TXT through the operator's resolvers; holding the token
 * makes it verified, and from then on the published app serves there (lookup.ts). Any number of orgs may
 * have a hostname pending (so nobody can squat a name they cannot prove); the first to prove it has it, and
 * nobody else can add it while it is verified.
 */
export class CustomDomainService {
  readonly #o: DomainServiceOptions;

  constructor(options: DomainServiceOptions) {
    this.#o = options;
  }

  async list(access: OrgAccess, ref: string): Promise<Domain[]> {
    requirePermission(access.role, "projects.read");
    const project = await this.#o.projects.get(access, ref);
    const rows = await this.#o.database.tenant(access.org.schemaName, (tx) =>
      tx
        .select()
        .from(customDomains)
        .where(eq(customDomains.projectId, project.id))
        .orderBy(asc(customDomains.createdAt), asc(customDomains.hostname)),
    );
    return rows.map(toDomain);
  }

  async add(access: OrgAccess, ref: string, input: AddDomainBody): Promise<Domain> {
    requirePermission(access.role, "projects.publish");
    const project = await this.#o.projects.get(access, ref);
    const hostname = normalizeHostname(input.hostname, this.#o.reserved);
    await this.#refuseIfVerifiedElsewhere(access.org.id, hostname);
    const row = await this.#o.database
      .tenant(access.org.schemaName, async (tx) => {
        const [n] = await tx
          .select({ n: count() })
          .from(customDomains)
          .where(eq(customDomains.projectId, project.id));
        if ((n?.n ?? 0) >= MAX_PER_PROJECT)
          throw new ConflictError(
            "too_many_domains",
            `a project has at most ${MAX_PER_PROJECT} custom domains`,
          );
        const id = randomUUID();
        const [inserted] = await tx
          .insert(customDomains)
          .values({
            id,
            projectId: project.id,
            hostname,
            token: `kiln-verify-${randomBytes(24).toString("base64url")}`,
            createdBy: access.userId,
          })
          .returning();
        await tx
          .insert(domainClaims)
          .values({ domainId: id, hostname, orgId: access.org.id, projectId: project.id });
        await recordAudit(tx, {
          orgId: access.org.id,
          action: "domain.added",
          actor: userActor(access),
          projectId: project.id,
          target: { type: "domain", id, label: hostname },
          data: { hostname },
        });
        return inserted!;
      })
      .catch((err: unknown) => {
        if (pgErrorCode(err) === UNIQUE_VIOLATION)
          throw new ConflictError("domain_taken", `${hostname} is already a domain of a project in this org`);
        throw err;
      });
    this.#o.lookup.forget(hostname);
    return toDomain(row);
  }

  async verify(access: OrgAccess, ref: string, id: string): Promise<Domain> {
    requirePermission(access.role, "projects.publish");
    const project = await this.#o.projects.get(access, ref);
    const row = await this.#o.database.tenant(access.org.schemaName, (tx) => rowOf(tx, project.id, id));
    const found = await this.#o.challenge(row.hostname, row.token);
    const now = new Date();
    if (!found.ok || row.status === "verified") {
      // A verified domain whose record is gone keeps serving: a DNS hiccup must not take a site down. Its
      // owner sees why the check failed, and removing the domain is theirs to do.
      const updated = await this.#update(access, project.id, id, {
        checkedAt: now,
        lastError: found.ok ? null : found.reason,
      });
      return toDomain(updated);
    }
    await this.#refuseIfVerifiedElsewhere(access.org.id, row.hostname);
    const updated = await this.#o.database
      .tenant(access.org.schemaName, async (tx) => {
        const [done] = await tx
          .update(customDomains)
          .set({ status: "verified", verifiedAt: now, checkedAt: now, lastError: null })
          .where(and(eq(customDomains.projectId, project.id), eq(customDomains.id, id)))
          .returning();
        if (!done) throw new NotFoundError("domain_not_found", "no such domain in this project");
        // The partial unique index on verified hostnames decides a race between two orgs.
        await tx.update(domainClaims).set({ verified: true }).where(eq(domainClaims.domainId, id));
        return done;
      })
      .catch((err: unknown) => {
        if (pgErrorCode(err) === UNIQUE_VIOLATION) throw taken(row.hostname);
        throw err;
      });
    this.#o.lookup.forget(row.hostname);
    return toDomain(updated);
  }

  async remove(access: OrgAccess, ref: string, id: string): Promise<void> {
    requirePermission(access.role, "projects.publish");
    const project = await this.#o.projects.get(access, ref);
    const hostname = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      const [gone] = await tx
        .delete(customDomains)
        .where(and(eq(customDomains.projectId, project.id), eq(customDomains.id, id)))
        .returning({ hostname: customDomains.hostname, status: customDomains.status });
      if (!gone) throw new NotFoundError("domain_not_found", "no such domain in this project");
      await tx.delete(domainClaims).where(eq(domainClaims.domainId, id));
      await recordAudit(tx, {
        orgId: access.org.id,
        action: "domain.removed",
        actor: userActor(access),
        projectId: project.id,
        target: { type: "domain", id, label: gone.hostname },
        data: { hostname: gone.hostname, status: gone.status },
      });
      return gone.hostname;
    });
    this.#o.lookup.forget(hostname);
  }

  /** A deleted project's claims (its own rows went with it). */
  async projectDeleted(orgId: string, projectId: string): Promise<void> {
    const gone = await this.#o.database.db
      .delete(domainClaims)
      .where(and(eq(domainClaims.orgId, orgId), eq(domainClaims.projectId, projectId)))
      .returning({ hostname: domainClaims.hostname });
    for (const { hostname } of gone) this.#o.lookup.forget(hostname);
  }

  async #refuseIfVerifiedElsewhere(orgId: string, hostname: string): Promise<void> {
    const [other] = await this.#o.database.db
      .select({ domainId: domainClaims.domainId })
      .from(domainClaims)
      .where(
        and(
          eq(domainClaims.hostname, hostname),
          eq(domainClaims.verified, true),
          ne(domainClaims.orgId, orgId),
        ),
      )
      .limit(1);
    if (other) throw taken(hostname);
  }

  async #update(access: OrgAccess, projectId: string, id: string, values: Partial<Row>): Promise<Row> {
    return this.#o.database.tenant(access.org.schemaName, async (tx) => {
      const [row] = await tx
        .update(customDomains)
        .set(values)
        .where(and(eq(customDomains.projectId, projectId), eq(customDomains.id, id)))
        .returning();
      if (!row) throw new NotFoundError("domain_not_found", "no such domain in this project");
      return row;
    });
  }
}

function taken(hostname: string): ConflictError {
  return new ConflictError("domain_taken", `${hostname} is verified for another project on this Kiln`);
}

async function rowOf(tx: Executor, projectId: string, id: string): Promise<Row> {
  const [row] = await tx
    .select()
    .from(customDomains)
    .where(and(eq(customDomains.projectId, projectId), eq(customDomains.id, id)))
    .limit(1);
  if (!row) throw new NotFoundError("domain_not_found", "no such domain in this project");
  return row;
}

function toDomain(row: Row): Domain {
  return {
    id: row.id,
    hostname: row.hostname,
    status: row.status as Domain["status"],
    verification: { type: "TXT", name: `${DOMAIN_CHALLENGE_LABEL}.${row.hostname}`, value: row.token },
    lastError: row.lastError,
    checkedAt: row.checkedAt?.toISOString() ?? null,
    verifiedAt: row.verifiedAt?.toISOString() ?? null,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}
