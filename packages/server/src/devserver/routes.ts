import { type LogLine, routes } from "@kiln/protocol";
import { type EventStreams, lastEventId, wantsStream } from "../http/event-stream.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { LogLine as BufferedLine } from "./log-buffer.ts";
import type { DevServerService } from "./service.ts";

function wire(line: BufferedLine): LogLine {
  return { seq: line.seq, at: new Date(line.at).toISOString(), stream: line.stream, text: line.text };
}

export function devServerRoutes(
  router: OrgRouter,
  deps: { devServer: DevServerService; streams: EventStreams },
): void {
  const { devServer, streams } = deps;
  const c = routes.runtime;

  router.handle(c.status, async (request) => devServer.status(request.scope, request.params.project));

  for (const action of ["start", "stop", "restart"] as const) {
    router.handle(c[action], async (request) => devServer.act(request.scope, request.params.project, action));
  }

  router.handle(c.logs, async (request, reply) => {
    const buffer = await devServer.logs(request.scope, request.params.project);
    const since = lastEventId(request, request.query.since);
    if (!wantsStream(request)) return buffer.since(since).map(wire);
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
  });

  router.handle(c.previewSession, async (request) =>
    devServer.previewSession(request.scope, request.params.project),
  );
}
