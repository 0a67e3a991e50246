import type { Role } from "@kiln/protocol";

const RANK: Record<Role, number> = { owner: 5, admin: 4, developer: 3, reviewer: 2, viewer: 1 };

/**
 * What the UI offers to whom. The server decides (orgs/roles.ts); this only hides buttons that would be
 * refused, so keep it in step with the server's table.
 */
const NEEDS = {
  "org.update": "admin",
  "org.delete": "owner",
  "members.manage": "admin",
  "invitations.manage": "admin",
  "projects.write": "developer",
  "projects.delete": "admin",
  "llm.manage": "admin",
  "workflows.manage": "admin",
  "automation.manage": "admin",
  "workers.manage": "admin",
} as const satisfies Record<string, Role>;

export type UiPermission = keyof typeof NEEDS;

export function can(role: Role, permission: UiPermission): boolean {
  return RANK[role] >= RANK[NEEDS[permission]];
}
