import { type FileEventsMessage, routes } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import { type EventStreams, wantsStream } from "../http/event-stream.ts";
import type { OrgRouter } from "../orgs/router.ts";
import { type FileService, writeBodyLimit } from "./service.ts";
import type { FileWatches } from "./watches.ts";

export function fileRoutes(
  router: OrgRouter,
  deps: {
    files: FileService;
    watches: FileWatches;
    streams: EventStreams;
    bodyLimitBytes: number;
  },
): void {
  const { files, watches, streams } = deps;
  const c = routes.files;

  router.handle(c.tree, async (request) => files.tree(request.scope, request.params.project, request.query));

  router.handle(c.events, async (request, reply) => {
    const target = await files.watchTarget(request.scope, request.params.project);
    if (!wantsStream(request))
      throw new KilnError("not_acceptable", "this is a stream: ask with Accept: text/event-stream");
    return streams.numbered<FileEventsMessage>(request, reply, async (emit, signal) => {
      let seq = 0;
      const off = await watches.subscribe(target.dir, (batch) =>
        emit({ seq: ++seq, event: { type: "changed", ...batch } }),
      );
      try {
        emit({ seq: ++seq, event: { type: "ready", paths: [], overflow: false } });
        if (!signal.aborted) await new Promise((resolve) => signal.addEventListener("abort", resolve));
      } finally {
        off();
      }
    });
  });

  router.handle(c.read, async (request) => files.read(request.scope, request.params.project, request.query));

  router.handle(
    c.write,
    async (request) => files.write(request.scope, request.params.project, request.body),
    // File contents may be larger than other bodies; the file size cap is checked on the decoded bytes.
    { bodyLimit: Math.max(deps.bodyLimitBytes, writeBodyLimit(files.limits)) },
  );

  router.handle(c.move, async (request) => files.move(request.scope, request.params.project, request.body));

  router.handle(c.mkdir, async (request) => files.mkdir(request.scope, request.params.project, request.body));

  router.handle(c.remove, async (request) => {
    await files.delete(request.scope, request.params.project, request.query);
    return { ok: true as const };
  });

  router.handle(c.search, async (request) =>
    files.search(request.scope, request.params.project, request.query),
  );
}
