import type { Project, RuntimeStatus } from "@kiln/protocol";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { LogBuffer } from "./log-buffer.ts";
import type { DevServerManager, DevServerProject } from "./manager.ts";

/**
 * The preview side of a project (preview/links.ts): its origin and a one-time sign-in hand-off to it.
 * Declared here because preview/ sits above the dev servers it proxies to.
 */
export interface PreviewLinks {
  origin(address: { projectSlug: string; orgSlug: string }): string;
  handoff(grant: { userId: string; orgId: string; projectId: string }): Promise<string>;
}

export interface DevServerServiceOptions {
  projects: ProjectService;
  manager: DevServerManager;
  preview: PreviewLinks;
  /** Refuses a start that its limits would refuse (limits/), so the caller gets a 4xx, not a crashed server. */
  admit?(project: DevServerProject): Promise<void>;
}

export function devProject(access: OrgAccess, project: Project): DevServerProject {
  return { orgId: access.org.id, projectId: project.id, name: project.name, template: project.template };
}

/** The project runtime as the API sees it: status, start/stop/restart, logs, preview sign-in links. */
export class DevServerService {
  readonly #o: DevServerServiceOptions;

  constructor(options: DevServerServiceOptions) {
    this.#o = options;
  }

  previewUrl(access: OrgAccess, project: Pick<Project, "slug">): string {
    return this.#o.preview.origin({ projectSlug: project.slug, orgSlug: access.org.slug });
  }

  async status(access: OrgAccess, ref: string): Promise<RuntimeStatus> {
    const project = await this.#o.projects.get(access, ref);
    return this.#status(access, project);
  }

  async act(access: OrgAccess, ref: string, action: "start" | "stop" | "restart"): Promise<RuntimeStatus> {
    requirePermission(access.role, "projects.write");
    const project = await this.#o.projects.get(access, ref);
    const dev = devProject(access, project);
    const state = this.#o.manager.status(dev).state;
    // A restart of a running server gives back what it takes: only a server not running is new to the budget.
    if (action !== "stop" && state !== "running" && state !== "starting") await this.#o.admit?.(dev);
    if (action === "stop") await this.#o.manager.stop(dev);
    // Start and restart return at once with "starting"; clients follow the status or the log stream.
    else if (action === "start") void this.#o.manager.start(dev);
    else void this.#o.manager.restart(dev);
    return this.#status(access, project);
  }

  async logs(access: OrgAccess, ref: string): Promise<LogBuffer> {
    const project = await this.#o.projects.get(access, ref);
    return this.#o.manager.logs(devProject(access, project));
  }

  async previewSession(access: OrgAccess, ref: string): Promise<{ url: string; expiresAt: string }> {
    const project = await this.#o.projects.get(access, ref);
    const token = await this.#o.preview.handoff({
      userId: access.userId,
      orgId: access.org.id,
      projectId: project.id,
    });
    return {
      url: `${this.previewUrl(access, project)}/__kiln/auth?token=${encodeURIComponent(token)}`,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    };
  }

  #status(access: OrgAccess, project: Project): RuntimeStatus {
    const dev = devProject(access, project);
    const s = this.#o.manager.status(dev);
    return {
      state: s.state,
      detail: s.detail,
      previewUrl: this.previewUrl(access, project),
      startedAt: s.startedAt ? new Date(s.startedAt).toISOString() : null,
      exitCode: s.exitCode ?? null,
      logTail: this.#o.manager.logs(dev).tail(20),
    };
  }
}
