import { routes, ZIP_TYPE } from "@kiln/protocol";
import { lingerOnClose } from "../http/linger.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { ProjectArchives } from "./service.ts";

export function archiveRoutes(router: OrgRouter, archives: ProjectArchives): void {
  const c = routes.projects;
  router.handle(c.export, async (request, reply) => {
    const { filename, zip } = await archives.export(request.scope, request.params.project, {
      history: request.query.history ?? false,
    });
    // The slug is [a-z0-9-]: nothing to quote in the header.
    reply.header("content-disposition", `attachment; filename="${filename}"`).type(ZIP_TYPE);
    return reply.send(zip);
  });
  router.handle(c.import, async (request, reply) => {
    try {
      return await archives.import(
        request.scope,
        request.query.name,
        request.body,
        request.headers["content-length"],
      );
    } catch (err) {
      // Refused before the upload was read to its end: answer, then close after a bounded linger so the
      // client still reads the answer instead of a reset (http/linger.ts).
      if (!request.raw.complete) {
        reply.header("connection", "close");
        lingerOnClose(request.raw.socket);
      }
      throw err;
    }
  });
}
