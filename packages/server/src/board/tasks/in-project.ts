import type { Database, Executor } from "../../db/client.ts";
import type { OrgAccess } from "../../orgs/service.ts";
import type { ProjectService } from "../../projects/service.ts";

/** Resolves the project the caller names (404 when it is not in their org) and runs `fn` in the org's schema. */
export async function inProject<T>(
  deps: { database: Database; projects: ProjectService },
  access: OrgAccess,
  projectRef: string,
  fn: (tx: Executor, projectId: string) => Promise<T>,
): Promise<T> {
  const project = await deps.projects.get(access, projectRef);
  return deps.database.tenant(access.org.schemaName, (tx) => fn(tx, project.id));
}
