import { can, PERMISSIONS, type Permission, type Role } from "@kiln/protocol";
import { ForbiddenError } from "../errors/errors.ts";

/** Refuses a role that lacks `permission` (the protocol's table, so the studio hides what the server refuses). */
export function requirePermission(role: Role, permission: Permission): void {
  if (!can(role, permission)) {
    throw new ForbiddenError(
      "forbidden",
      `your role (${role}) cannot do this; it needs ${PERMISSIONS[permission]}`,
      {
        permission,
        required: PERMISSIONS[permission],
      },
    );
  }
}
