import type { Database } from "../db/client.ts";
import type { PublishedSites } from "../deployments/sites.ts";
import type { ProjectService } from "../projects/service.ts";
import { dnsChallengeLookup } from "./dns-check.ts";
import type { ReservedNames } from "./hostname.ts";
import { DomainLookup } from "./lookup.ts";
import { CustomDomainSites } from "./serve.ts";
import { CustomDomainService } from "./service.ts";

export interface DomainDeps extends ReservedNames {
  database: Database;
  projects: ProjectService;
  sites: PublishedSites;
  /** KILN_DNS_SERVERS; empty: the system's resolvers. */
  dnsServers: string[];
}

/** Custom domains (ADR 0026): the API's service, the lookup by hostname, and the sites they serve. */
export function createDomains(d: DomainDeps): {
  service: CustomDomainService;
  lookup: DomainLookup;
  sites: CustomDomainSites;
} {
  const lookup = new DomainLookup(d.database);
  const reserved = { publicUrl: d.publicUrl, appDomain: d.appDomain, publishDomain: d.publishDomain };
  const service = new CustomDomainService({
    database: d.database,
    projects: d.projects,
    reserved,
    challenge: dnsChallengeLookup(d.dnsServers),
    lookup,
  });
  d.projects.onDelete((orgId, projectId) => service.projectDeleted(orgId, projectId));
  return { service, lookup, sites: new CustomDomainSites(lookup, d.sites, d.publicUrl) };
}
