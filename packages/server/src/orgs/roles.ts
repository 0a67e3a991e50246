import { can, PERMISSIONS, type Permission, type Role } from "@kiln/protocol";
import { ForbiddenError } from "../errors/errors.ts";

// The table itself is the protocol's (permissions.ts), so the studio hides exactly what the server refuses.
export { atLeast, can, PERMISSIONS, type Permission } from "@kiln/protocol";

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
