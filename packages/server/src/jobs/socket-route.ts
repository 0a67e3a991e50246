import { routes } from "@kiln/protocol";
import type { FastifyRequest } from "fastify";
import { KilnError, UnauthenticatedError } from "../errors/errors.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { JobService } from "./service.ts";
import type { WorkerCredential } from "./worker-tokens.ts";

/**
 * `GET /api/workers/socket`: where `kiln worker` connects. Authenticated by a worker token in the
 * Authorization header only, never by cookies: a browser cannot set that header on a WebSocket, so no
 * page can open this socket with a visitor's credentials.
 */
export function workerSocketRoute(router: OrgRouter, deps: { jobs: JobService }): void {
  const credentials = new WeakMap<FastifyRequest, WorkerCredential>();
  router.handle(
    // `auth: "none"`: the user auth hook stays out of it, worker tokens are not user credentials.
    routes.workers.socket,
    async () => {
      throw new KilnError("upgrade_required", "connect with a WebSocket (Upgrade: websocket)", {
        headers: { upgrade: "websocket" },
      });
    },
    {
      security: [{ workerToken: [] }],
      // Checked before the upgrade, so a refusal is a plain HTTP answer the worker can read.
      preHandler: async (request) => {
        const header = request.headers.authorization;
        if (header === undefined) throw new UnauthenticatedError();
        const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
        if (!match) throw new UnauthenticatedError("token_invalid", "Authorization must be 'Bearer <token>'");
        credentials.set(request, await deps.jobs.authenticateWorker(match[1]!));
      },
      wsHandler: (socket, request) => {
        const credential = credentials.get(request);
        if (!credential) return socket.close(1008, "not authenticated");
        deps.jobs.attach(socket, credential);
      },
    },
  );
}
