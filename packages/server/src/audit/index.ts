export {
  type AuditActor,
  type AuditEntry,
  digestOf,
  recordAudit,
  SYSTEM_ACTOR,
  userActor,
} from "./record.ts";
export { auditRoutes } from "./routes.ts";
export { AuditLog, auditPage } from "./service.ts";
