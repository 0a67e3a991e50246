import path from "node:path";
import { type AddressPolicy, createEgressFetch } from "@kiln/agent";
import { ARTIFACT_LIMITS } from "@kiln/protocol";
import type { KilnConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { ProjectHistory } from "../history/service.ts";
import type { Limits } from "../limits/index.ts";
import type { OrgEvents } from "../orgs/events.ts";
import type { ProjectEnvService } from "../projects/env.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ProjectStorage } from "../projects/storage.ts";
import type { SandboxDriver } from "../sandbox/driver.ts";
import type { SecretBox } from "../secrets/secret-box.ts";
import type { TemplateService } from "../templates/service.ts";
import { ArtifactStore } from "./artifacts.ts";
import { collectArtifacts } from "./collect.ts";
import { siteOrigin } from "./host.ts";
import { SiteProcesses } from "./processes.ts";
import { materialize } from "./run-dir.ts";
import { RuntimeLogs } from "./runtime-log.ts";
import { BUILD_TIMEOUT_MS, DeploymentService } from "./service.ts";
import { PublishedSites } from "./sites.ts";
import { DeployTargetService } from "./targets/service.ts";
import { VersionShareService } from "./version-shares.ts";
import { VersionSites } from "./version-sites.ts";

export interface DeploymentDeps {
  /** A published server stops after this long without a request. */
  idleMs: number;
  database: Database;
  dataDir: string;
  publicUrl: string;
  publishDomain: string;
  projects: ProjectService;
  templates: TemplateService;
  storage: ProjectStorage;
  driver: SandboxDriver;
  limits: Limits;
  env: ProjectEnvService;
  history: ProjectHistory;
  secrets: SecretBox;
  /** Every call to a deploy target's API goes through the server's egress address policy. */
  egress: AddressPolicy;
  targets: KilnConfig["deployTargets"];
  /** Told of each deployment's end (webhooks). */
  events?: OrgEvents;
  log?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** Publishing: the deployments' service (API) and the sites that serve them (by host). */
export function createDeployments(d: DeploymentDeps): {
  service: DeploymentService;
  targets: DeployTargetService;
  sites: PublishedSites;
  processes: SiteProcesses;
  /** Share links of one deployment and the deployment hosts that serve them. */
  versions: { shares: VersionShareService; sites: VersionSites; runtimeLogs: RuntimeLogs };
  /** Housekeeping: unreferenced blobs and run directories (collect.ts). */
  collect(): Promise<{ blobs: number; runDirs: number } | undefined>;
} {
  const artifacts = new ArtifactStore(path.join(d.dataDir, "artifacts"));
  const processes = new SiteProcesses({
    driverFor: (orgId, projectId) => d.limits.guard({ kind: "devserver", orgId, projectId }, d.driver),
    // The deployment's files as its workspace, the project's environment, the network like its dev server's.
    sandboxFor: async (site, runDir) => ({
      projectId: site.projectId,
      workspaceDir: runDir,
      network: "egress",
      env: await d.env.forProject(site.orgId, site.projectId),
    }),
    runDir: (site) =>
      materialize(
        path.join(d.dataDir, "artifacts", "run"),
        site.deploymentId,
        site.manifest,
        (digest) => artifacts.blobPath(digest),
        d.driver.workspaceOwner(site.projectId),
      ),
    idleMs: d.idleMs,
    ...(d.log ? { log: { info: () => {}, warn: d.log.warn.bind(d.log) } } : {}),
  });
  let sites: PublishedSites | undefined;
  const targets = new DeployTargetService({
    database: d.database,
    projects: d.projects,
    secrets: d.secrets,
    apiUrls: d.targets.apiUrls,
    fetch: createEgressFetch(d.egress),
    pollMs: d.targets.pollMs,
    timeoutMs: BUILD_TIMEOUT_MS,
  });
  const service = new DeploymentService({
    database: d.database,
    projects: d.projects,
    artifacts,
    targets,
    manifestOf: (template) => {
      try {
        return d.templates.get(template).manifest;
      } catch {
        return undefined; // a template this server no longer has
      }
    },
    projectDir: (orgId, projectId) => d.storage.projectDir(orgId, projectId),
    ownerOf: (projectId) => d.driver.workspaceOwner(projectId),
    async commit(orgId, projectId) {
      const target = { orgId, projectId };
      await d.history.checkpoint(target, { message: "Publish" });
      return (await d.history.list(target, { limit: 1 })).checkpoints[0]?.sha ?? null;
    },
    // In the project's sandbox, as one of its commands (org budgets, disk), without network: a build
    // works from what is installed.
    async build(orgId, projectId, argv, signal) {
      const driver = d.limits.guard({ kind: "command", orgId, projectId }, d.driver);
      return driver.exec(
        {
          projectId,
          workspaceDir: d.storage.projectDir(orgId, projectId),
          network: "none",
          env: { ...(await d.env.forProject(orgId, projectId)), NODE_ENV: "production" },
        },
        { argv, signal, limits: { wallClockMs: BUILD_TIMEOUT_MS, outputBytes: ARTIFACT_LIMITS.logBytes } },
      );
    },
    urlOf: (orgSlug, projectSlug) => siteOrigin(d.publicUrl, d.publishDomain, { orgSlug, projectSlug }),
    onPromoted: (orgSlug, projectSlug) => sites?.forget({ orgSlug, projectSlug }),
    ...(d.events ? { events: d.events } : {}),
    ...(d.log ? { log: d.log } : {}),
  });
  sites = new PublishedSites({
    database: d.database,
    artifacts,
    publishDomain: d.publishDomain,
    current: (schemaName, projectSlug) => service.current(schemaName, projectSlug),
    processes,
    ...(d.log ? { log: d.log } : {}),
  });
  const versionShares = new VersionShareService({
    database: d.database,
    projects: d.projects,
    publicUrl: d.publicUrl,
    publishDomain: d.publishDomain,
  });
  const versions = {
    shares: versionShares,
    runtimeLogs: new RuntimeLogs({ database: d.database, projects: d.projects, processes }),
    sites: new VersionSites({
      database: d.database,
      artifacts,
      processes,
      shares: versionShares,
      publishDomain: d.publishDomain,
      secureCookies: d.publicUrl.startsWith("https://"),
      ...(d.log ? { log: d.log } : {}),
    }),
  };
  return {
    service,
    targets,
    sites,
    processes,
    versions,
    collect: () => collectArtifacts(d.database, artifacts),
  };
}
