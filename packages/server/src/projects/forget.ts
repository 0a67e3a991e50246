import type { OrgService } from "../orgs/service.ts";
import type { ProjectService } from "./service.ts";

/**
 * Something that keeps state about projects outside their org's schema and files (running processes,
 * caches, in-memory rates): told when a project or a whole org is deleted. Each is idempotent.
 */
export interface ForgetsDeleted {
  forgetProject?(orgId: string, projectId: string): Promise<void> | void;
  forgetOrg?(orgId: string): Promise<void> | void;
}

/**
 * Tells every participant, in list order, when a project or an org is deleted (or a project's creation is
 * rolled back). One failing does not keep the others from cleaning up; the first failure is rethrown.
 */
export function forgetDeleted(
  owners: { orgs: OrgService; projects: ProjectService },
  participants: readonly ForgetsDeleted[],
): void {
  const each = async (run: (p: ForgetsDeleted) => Promise<void> | void | undefined) => {
    const failures: unknown[] = [];
    for (const participant of participants) {
      try {
        await run(participant);
      } catch (err) {
        failures.push(err);
      }
    }
    if (failures.length) throw failures[0];
  };
  owners.projects.onDelete((orgId, projectId) => each((p) => p.forgetProject?.(orgId, projectId)));
  owners.orgs.onDelete((orgId) => each((p) => p.forgetOrg?.(orgId)));
}
