import type { PreviewStatus, ProjectInfo } from "@kiln/agent";
import type { PreviewError, Project } from "@kiln/protocol";
import type { DevServerService } from "../devserver/service.ts";
import type { FileService } from "../files/service.ts";
import type { OrgAccess } from "../orgs/service.ts";

const GUIDE = "KILN.md";
const START_WAIT_MS = 20_000;
const ERROR_LINE = /error|failed|cannot|unexpected|exception|not found|\bat .+:\d+:\d+/i;

/** Errors the dev server printed and the preview page reported (preview/errors.ts). */
export interface BrowserErrorSource {
  recent(orgId: string, projectId: string): PreviewError[];
}

const REPORT_LIMIT = 20;
const DETAIL_LIMIT = 1_500;

/** What the agent's `project_info` and `preview_status` tools read, and the system prompt's guide. */
export class ProjectContext {
  readonly #files: FileService;
  readonly #devServer: DevServerService;
  readonly #errors: BrowserErrorSource | undefined;

  constructor(files: FileService, devServer: DevServerService, errors?: BrowserErrorSource) {
    this.#files = files;
    this.#devServer = devServer;
    this.#errors = errors;
  }

  async guide(access: OrgAccess, project: Project): Promise<string | undefined> {
    try {
      // The project was looked up for this access already: no second lookup on a turn's way to the model.
      return (await this.#files.read(access, project, { path: GUIDE, encoding: "utf8" })).content;
    } catch {
      return undefined;
    }
  }

  async info(access: OrgAccess, project: Project): Promise<ProjectInfo> {
    const guide = await this.guide(access, project);
    return {
      name: project.name,
      slug: project.slug,
      template: project.template,
      ...(project.description ? { description: project.description } : {}),
      ...(guide ? { guide } : {}),
      previewUrl: this.#devServer.previewUrl(access, project),
    };
  }

  /**
   * Starts the dev server when it is down (the agent asks because it wants to see the app run) and waits
   * a little for it to come up or crash, then reports the errors seen.
   */
  async previewStatus(access: OrgAccess, project: Project): Promise<PreviewStatus> {
    let status = await this.#devServer.status(access, project.id);
    if (status.state === "stopped" || status.state === "hibernated" || status.state === "crashed") {
      status = await this.#devServer.act(
        access,
        project.id,
        status.state === "crashed" ? "restart" : "start",
      );
    }
    const deadline = Date.now() + START_WAIT_MS;
    while (status.state === "starting" && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = await this.#devServer.status(access, project.id);
    }
    const seen = this.#errors?.recent(access.org.id, project.id) ?? [];
    const server = seen.filter((e) => e.source === "server").map(describe);
    const fromLog = status.logTail.filter((line) => ERROR_LINE.test(line));
    return {
      state: status.state,
      detail: status.detail,
      errors: (server.length > 0 ? server : fromLog).slice(-20),
      browserErrors: seen
        .filter((e) => e.source === "browser")
        .map(describe)
        .slice(-20),
    };
  }

  /** The project's current errors as a request to the agent, or null when there are none. */
  async errorReport(access: OrgAccess, project: Project): Promise<string | null> {
    const seen = (this.#errors?.recent(access.org.id, project.id) ?? []).slice(-REPORT_LIMIT);
    if (seen.length === 0) return null;
    const lines = [
      "The preview shows these errors. Find the cause and fix it, then check `preview_status` again.",
      "",
    ];
    for (const e of seen) lines.push(`- ${e.source === "server" ? "Dev server" : "Browser"}: ${describe(e)}`);
    return lines.join("\n");
  }
}

function describe(e: PreviewError): string {
  const where = e.url ? ` (${e.url}${e.line ? `:${e.line}${e.column ? `:${e.column}` : ""}` : ""})` : "";
  const repeats = e.count > 1 ? ` [×${e.count}]` : "";
  const detail = e.detail ? `\n${e.detail.slice(0, DETAIL_LIMIT)}` : "";
  return `${e.message}${where}${repeats}${detail}`;
}
