import { Readable } from "node:stream";
import { AUDIT_CSV_TYPE, AUDIT_JSONL_TYPE, type AuditEvent, routes } from "@kiln/protocol";
import type { ContractRouter } from "../http/contract-router.ts";
import { AUDIT_CSV_HEADER, type AuditLog, type AuditReader, csvLine } from "./service.ts";

export function auditRoutes(router: ContractRouter<AuditReader>, log: AuditLog): void {
  const c = routes.audit;
  router.handle(c.list, async (request) => log.list(request.scope, request.query));
  router.handle(c.exportJsonl, async (request, reply) => {
    const events = log.export(request.scope, request.query);
    const first = await events.next();
    reply
      .header("content-disposition", `attachment; filename="${request.scope.org.slug}-audit.jsonl"`)
      .type(AUDIT_JSONL_TYPE);
    return reply.send(Readable.from(lines(first, events, (e) => `${JSON.stringify(e)}\n`)));
  });
  router.handle(c.exportCsv, async (request, reply) => {
    const events = log.export(request.scope, request.query);
    const first = await events.next();
    reply
      .header("content-disposition", `attachment; filename="${request.scope.org.slug}-audit.csv"`)
      .type(`${AUDIT_CSV_TYPE}; charset=utf-8`);
    return reply.send(Readable.from(lines(first, events, csvLine, `${AUDIT_CSV_HEADER.join(",")}\r\n`)));
  });
}

/**
 * The export's lines. Its first row is read before the answer starts (a failure then is still a clean error
 * answer); the rest streams.
 */
async function* lines(
  first: IteratorResult<AuditEvent>,
  rest: AsyncGenerator<AuditEvent>,
  line: (e: AuditEvent) => string,
  header?: string,
): AsyncGenerator<string> {
  if (header) yield header;
  if (first.done) return;
  yield line(first.value);
  for await (const e of rest) yield line(e);
}
