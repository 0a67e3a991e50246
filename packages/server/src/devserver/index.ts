import { availableParallelism } from "node:os";
import type { FastifyBaseLogger } from "fastify";
import type { FileEvents } from "../files/events.ts";
import type { Limits } from "../limits/index.ts";
import type { ProjectEnvService } from "../projects/env.ts";
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
  /** The project's environment variables, given to its dev server. */
  env: ProjectEnvService;
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
    // Read at every start, so a restart is all it takes for the app to see a changed variable.
    sandboxFor: async (p) => ({ ...sandboxOf(p), env: await d.env.forProject(p.orgId, p.projectId) }),
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
  // The app sees a changed variable only in a new process: restart a server that runs (or tries to, or
  // crashed — perhaps for want of that very variable). A stopped or hibernated one reads it when it starts.
  d.env.onChange(async (access, project) => {
    const state = manager.status(devProject(access, project)).state;
    if (state !== "running" && state !== "starting" && state !== "crashed") return false;
    try {
      await service.act(access, project.id, "restart");
      return true;
    } catch (err) {
      d.log.warn({ projectId: project.id, err }, "dev server not restarted after an environment change");
      return false;
    }
  });
  return { manager, service };
}
