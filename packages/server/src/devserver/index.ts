import { availableParallelism } from "node:os";
import type { FastifyBaseLogger } from "fastify";
import type { FileEvents } from "../files/events.ts";
import type { Limits } from "../limits/index.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ProjectStorage } from "../projects/storage.ts";
import type { SandboxDriver, SandboxSpec } from "../sandbox/index.ts";
import { devCommand } from "../templates/registry.ts";
import type { TemplateService } from "../templates/service.ts";
import { DevServerManager, type DevServerProject, GUEST_PORT } from "./manager.ts";
import { DevServerService, devProject, type PreviewLinks } from "./service.ts";

export interface DevServersDeps {
  driver: SandboxDriver;
  storage: ProjectStorage;
  templates: TemplateService;
  limits: Limits;
  projects: ProjectService;
  fileEvents: FileEvents;
  /** Where a project's preview is (the preview domain's links, preview/links.ts). */
  links: PreviewLinks;
  hibernateAfterMinutes: number;
  log: FastifyBaseLogger;
}

/**
 * The dev servers: one per project, in its sandbox, under the org's limits. Started as a project is created
 * (when asked), restarted after a crash when the project's files change.
 */
export function createDevServers(d: DevServersDeps): {
  manager: DevServerManager;
  service: DevServerService;
} {
  const sandboxOf = (p: DevServerProject): SandboxSpec => ({
    projectId: p.projectId,
    workspaceDir: d.storage.projectDir(p.orgId, p.projectId),
    network: "egress",
    // Dev servers start multi-threaded (Vite's bundler); a one-core quota doubles their cold start.
    limits: { cpu: Math.max(1, availableParallelism()) },
  });
  const ownerOf = (p: DevServerProject) => ({
    kind: "devserver" as const,
    orgId: p.orgId,
    projectId: p.projectId,
  });
  const manager = new DevServerManager({
    driver: d.driver,
    driverFor: (p) => d.limits.guard(ownerOf(p), d.driver),
    idleMs: d.hibernateAfterMinutes * 60_000,
    log: d.log,
    sandboxFor: async (p) => sandboxOf(p),
    commandFor: async (p) => devCommand(d.templates.get(p.template).manifest, GUEST_PORT),
  });
  // The studio opens the preview right after creating a project: starting now overlaps the dev server's
  // cold start with the page load instead of waiting for the first preview request.
  d.projects.onCreate((access, project, input) => {
    if (!input.startDevServer) return;
    void manager.start(devProject(access, project));
  });
  // A crashed dev server gets another chance when its files change (the fix is probably in).
  d.fileEvents.on((change) => {
    const found = manager.find(change.orgId, change.projectId);
    if (found && manager.status(found).state === "crashed") void manager.restart(found);
  });
  const service = new DevServerService({
    projects: d.projects,
    manager,
    preview: d.links,
    admit: (p) => d.limits.check(ownerOf(p), sandboxOf(p)),
  });
  return { manager, service };
}
