export { InstanceAdmins } from "./identity.ts";
export { AdminOrgs } from "./orgs.ts";
export { adminRoutes } from "./routes.ts";
export { AdminService } from "./service.ts";
export { SignupPolicies } from "./signup-policy.ts";
