// The table itself is the protocol's (permissions.ts), so the studio hides exactly what the server refuses.
export { atLeast, can, PERMISSIONS, type Permission } from "@kiln/protocol";
export { requirePermission } from "../http/permission.ts";
