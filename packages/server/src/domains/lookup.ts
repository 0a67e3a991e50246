import { and, desc, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { domainClaims, orgs } from "../db/schema-shared.ts";
import { customDomains, projects } from "../db/schema-tenant.ts";
import type { SiteAddress } from "../deployments/host.ts";

/** A hostname's answer: a verified domain serves its project's published app; a pending one nothing yet. */
export type DomainTarget = { state: "verified"; address: SiteAddress } | { state: "pending" };

/** How long a hostname keeps its answer (another replica's verification or removal shows within it). */
const LOOKUP_TTL_MS = 1000;
const MAX_CACHED = 10_000;

/**
 * Custom domains by hostname, across every org (the shared `domain_claims`), for serving and for a TLS
 * terminator's question. A claim whose project is gone (deleted while this replica was away from its
 * listener) is dropped when met.
 */
export class DomainLookup {
  readonly #database: Database;
  readonly #cache = new Map<string, { at: number; target: DomainTarget | undefined }>();

  constructor(database: Database) {
    this.#database = database;
  }

  /** What the cache says now, if it says anything (for a socket upgrade, which cannot wait). */
  peek(hostname: string): DomainTarget | undefined {
    const cached = this.#cache.get(hostname);
    return cached && Date.now() - cached.at < LOOKUP_TTL_MS ? cached.target : undefined;
  }

  async resolve(hostname: string): Promise<DomainTarget | undefined> {
    const cached = this.#cache.get(hostname);
    if (cached && Date.now() - cached.at < LOOKUP_TTL_MS) return cached.target;
    const target = await this.#find(hostname);
    if (this.#cache.size >= MAX_CACHED) this.#cache.clear();
    this.#cache.set(hostname, { at: Date.now(), target });
    return target;
  }

  forget(hostname: string): void {
    this.#cache.delete(hostname);
  }

  async #find(hostname: string): Promise<DomainTarget | undefined> {
    const [claim] = await this.#database.db
      .select({
        domainId: domainClaims.domainId,
        verified: domainClaims.verified,
        orgSlug: orgs.slug,
        schemaName: orgs.schemaName,
      })
      .from(domainClaims)
      .innerJoin(orgs, eq(orgs.id, domainClaims.orgId))
      .where(eq(domainClaims.hostname, hostname))
      .orderBy(desc(domainClaims.verified))
      .limit(1);
    if (!claim) return undefined;
    if (!claim.verified) return { state: "pending" };
    const [found] = await this.#database.tenant(claim.schemaName, (tx) =>
      tx
        .select({ projectSlug: projects.slug })
        .from(customDomains)
        .innerJoin(projects, eq(projects.id, customDomains.projectId))
        .where(and(eq(customDomains.id, claim.domainId), eq(customDomains.status, "verified")))
        .limit(1),
    );
    if (found)
      return { state: "verified", address: { orgSlug: claim.orgSlug, projectSlug: found.projectSlug } };
    // The claim and its row are written in one transaction; a claim without a row outlived its project.
    await this.#database.db.delete(domainClaims).where(eq(domainClaims.domainId, claim.domainId));
    return undefined;
  }
}
