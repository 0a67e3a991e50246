import type { LogLine } from "@kiln/protocol";
import { and, eq } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { deployments } from "../db/schema-tenant.ts";
import { NotFoundError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { SiteProcesses } from "./processes.ts";

/**
 * A published server app's runtime log (processes.ts keeps the last lines of each deployment that ran on this
 * replica): for the project's members, as its dev server's log is.
 */
export class RuntimeLogs {
  readonly #o: { database: Database; projects: ProjectService; processes: SiteProcesses };

  constructor(options: { database: Database; projects: ProjectService; processes: SiteProcesses }) {
    this.#o = options;
  }

  async lines(access: OrgAccess, ref: string, deploymentId: string, since?: number): Promise<LogLine[]> {
    requirePermission(access.role, "projects.read");
    const project = await this.#o.projects.get(access, ref);
    const [row] = await this.#o.database.tenant(access.org.schemaName, (tx) =>
      tx
        .select({ id: deployments.id })
        .from(deployments)
        .where(and(eq(deployments.projectId, project.id), eq(deployments.id, deploymentId)))
        .limit(1),
    );
    if (!row) throw new NotFoundError("deployment_not_found", "no such deployment in this project");
    const lines = this.#o.processes.logOf(row.id)?.since(since) ?? [];
    return lines.map((l) => ({ ...l, at: new Date(l.at).toISOString() }));
  }
}
