import {
  AUDIT_CSV_TYPE,
  AUDIT_JSONL_TYPE,
  AuditCsv,
  AuditFilterQuery,
  AuditJsonLines,
  AuditList,
  AuditListQuery,
} from "../audit.ts";
import { defineRoute } from "./define.ts";
import { OrgParams } from "./params.ts";

const tags = ["audit"];
const BASE = "/api/orgs/:org/audit/events";

/** An org's audit log (ADR 0033): admins read and export it; nobody edits it. */
export const audit = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "The org's audit log, newest first, filtered",
    tags,
    permission: "audit.read",
    params: OrgParams,
    query: AuditListQuery,
    response: AuditList,
  }),
  exportJsonl: defineRoute({
    method: "GET",
    path: `${BASE}.jsonl`,
    summary: "The filtered audit log as JSON lines (one AuditEvent a line, oldest first)",
    tags,
    permission: "audit.read",
    params: OrgParams,
    query: AuditFilterQuery,
    response: AuditJsonLines,
    produces: AUDIT_JSONL_TYPE,
  }),
  exportCsv: defineRoute({
    method: "GET",
    path: `${BASE}.csv`,
    summary: "The filtered audit log as CSV (oldest first)",
    tags,
    permission: "audit.read",
    params: OrgParams,
    query: AuditFilterQuery,
    response: AuditCsv,
    produces: AUDIT_CSV_TYPE,
  }),
};
