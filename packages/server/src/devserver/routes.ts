import { ErrorEnvelope, IdOrSlug, LogLine, PreviewSession, RuntimeStatus } from "@kiln/protocol";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type EventStreams, wantsStream } from "../http/event-stream.ts";
import { principalOf } from "../http/principal.ts";
import type { OrgService } from "../orgs/service.ts";
import type { LogLine as BufferedLine } from "./log-buffer.ts";
import type { DevServerService } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["runtime"];
const ProjectParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug });

function wire(line: BufferedLine): LogLine {
  return { seq: line.seq, at: new Date(line.at).toISOString(), stream: line.stream, text: line.text };
}

export function devServerRoutes(
  app: FastifyInstance,
  deps: { orgs: OrgService; devServer: DevServerService; streams: EventStreams },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, devServer, streams } = deps;
  const base = "/api/orgs/:org/projects/:project";

  r.get(
    `${base}/runtime`,
    {
      schema: {
        tags,
        summary: "Dev server status",
        params: ProjectParams,
        response: { 200: RuntimeStatus, ...errors },
      },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      return devServer.status(access, request.params.project);
    },
  );

  for (const action of ["start", "stop", "restart"] as const) {
    r.post(
      `${base}/runtime/${action}`,
      {
        schema: {
          tags,
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} the dev server`,
          params: ProjectParams,
          response: { 200: RuntimeStatus, ...errors },
        },
      },
      async (request) => {
        const access = await orgs.access(principalOf(request).userId, request.params.org);
        return devServer.act(access, request.params.project, action);
      },
    );
  }

  r.get(
    `${base}/runtime/logs`,
    {
      schema: {
        tags,
        summary: "Dev server output: JSON lines, or a live stream with Accept: text/event-stream",
        params: ProjectParams,
        querystring: z.strictObject({ since: z.coerce.number().int().min(0).optional() }),
        response: { 200: z.array(LogLine), ...errors },
      },
    },
    async (request, reply) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      const buffer = await devServer.logs(access, request.params.project);
      const lastId = Number(request.headers["last-event-id"]);
      const since = Number.isInteger(lastId) && lastId >= 0 ? lastId : (request.query.since ?? 0);
      if (!wantsStream(request)) {
        return buffer.since(since).map(wire);
      }
      // Server-sent events: replay what the client missed (Last-Event-ID), then follow live.
      return streams.framed<BufferedLine>(
        request,
        reply,
        async (emit, signal) => {
          for (const line of buffer.since(since)) emit(line);
          const off = buffer.subscribe(emit);
          try {
            if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve));
          } finally {
            off();
          }
        },
        (line) => ({ id: line.seq, event: "log", data: wire(line) }),
      );
    },
  );

  r.post(
    `${base}/preview-session`,
    {
      schema: {
        tags,
        summary: "A one-minute link that signs this browser in to the (private) preview",
        params: ProjectParams,
        response: { 200: PreviewSession, ...errors },
      },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      return devServer.previewSession(access, request.params.project);
    },
  );
}
