import { type AuditFilterQuery, routes } from "@kiln/protocol";
import { call, urlOf } from "../call.ts";

const e = routes.audit;

export const audit = {
  list: (org: string, filter: AuditFilterQuery, before?: number) =>
    call(e.list, { params: { org }, query: { ...filter, ...(before ? { before } : {}) } }),
  exportUrl: (org: string, filter: AuditFilterQuery, format: "jsonl" | "csv") =>
    urlOf(format === "jsonl" ? e.exportJsonl : e.exportCsv, { params: { org }, query: filter }),
};
