import {
  CreateTerminalBody,
  ErrorEnvelope,
  IdOrSlug,
  Ok,
  TERMINAL_CLOSE,
  Terminal,
  TerminalClientMessage,
  TerminalId,
  type TerminalServerMessage,
} from "@kiln/protocol";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { WebSocket } from "ws";
import { z } from "zod";
import { ForbiddenError, KilnError } from "../errors/errors.ts";
import { principalOf } from "../http/principal.ts";
import type { OrgService } from "../orgs/service.ts";
import type { TerminalService } from "./service.ts";
import type { TerminalSession } from "./session.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["terminals"];
const ProjectParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug });
const TerminalParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug, terminalId: TerminalId });
/** Output queued for a socket beyond this means the client is not reading; it is dropped, the shell lives on. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export function terminalRoutes(
  app: FastifyInstance,
  deps: { orgs: OrgService; terminals: TerminalService; publicUrl: string },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, terminals } = deps;
  const studioOrigin = new URL(deps.publicUrl).origin;
  const base = "/api/orgs/:org/projects/:project/terminals";
  const opened = new WeakMap<FastifyRequest, TerminalSession>();

  r.post(
    base,
    {
      schema: {
        tags,
        summary: "Open a shell in the project's sandbox; attach to it through its socket",
        params: ProjectParams,
        body: CreateTerminalBody,
        response: { 201: Terminal, ...errors },
      },
    },
    async (request, reply) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      return reply.code(201).send(await terminals.create(access, request.params.project, request.body));
    },
  );

  r.get(
    base,
    {
      schema: {
        tags,
        summary: "Open terminals of the project",
        params: ProjectParams,
        response: { 200: z.array(Terminal), ...errors },
      },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      return terminals.list(access, request.params.project);
    },
  );

  r.delete(
    `${base}/:terminalId`,
    {
      schema: {
        tags,
        summary: "Kill a terminal's shell and everything it started",
        params: TerminalParams,
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      await terminals.kill(access, request.params.project, request.params.terminalId);
      return { ok: true as const };
    },
  );

  r.route({
    method: "GET",
    url: `${base}/:terminalId/socket`,
    schema: {
      tags,
      summary:
        "WebSocket to a terminal: replays recent output, then streams; send input and resize messages (426 without Upgrade)",
      params: TerminalParams,
      response: { ...errors },
    },
    // Checked before the upgrade, so a refusal is a plain HTTP answer the client can read.
    preHandler: async (request) => {
      if (request.ws) checkOrigin(request, studioOrigin);
      const access = await orgs.access(principalOf(request).userId, request.params.org);
      const session = await terminals.open(access, request.params.project, request.params.terminalId);
      opened.set(request, session);
    },
    handler: async () => {
      throw new KilnError("upgrade_required", "connect with a WebSocket (Upgrade: websocket)", {
        headers: { upgrade: "websocket" },
      });
    },
    wsHandler: (socket, request) => {
      const session = opened.get(request);
      if (!session) return socket.close(TERMINAL_CLOSE.invalidMessage, "no terminal");
      attach(socket, session);
    },
  });
}

/**
 * WebSocket upgrades are GETs, so CSRF tokens do not guard them, and browsers send cookies on cross-site
 * WebSocket requests: without this, any page could open a shell with a visitor's session. Browsers always
 * send Origin on WebSocket requests; a cookie without one is refused too.
 */
function checkOrigin(request: FastifyRequest, studioOrigin: string): void {
  const origin = request.headers.origin;
  if (origin === undefined && principalOf(request).via !== "cookie") return;
  if (origin !== studioOrigin) {
    throw new ForbiddenError("origin_forbidden", `WebSocket connections must come from ${studioOrigin}`);
  }
}

function attach(socket: WebSocket, session: TerminalSession): void {
  const close = (code: number, reason: string) => {
    if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING)
      socket.close(code, reason);
  };
  const send = (message: TerminalServerMessage) => {
    if (socket.readyState !== socket.OPEN) return;
    socket.send(JSON.stringify(message));
    if (message.type === "exit") close(TERMINAL_CLOSE.ended, "the shell exited");
    else if (socket.bufferedAmount > MAX_BUFFERED_BYTES) close(TERMINAL_CLOSE.tooSlow, "output not read");
  };
  const detach = session.attach(send);
  socket.on("close", detach);
  socket.on("message", (data, isBinary) => {
    if (isBinary) return close(TERMINAL_CLOSE.invalidMessage, "send JSON text messages");
    let json: unknown;
    try {
      json = JSON.parse(String(data));
    } catch {
      return close(TERMINAL_CLOSE.invalidMessage, "not JSON");
    }
    const parsed = TerminalClientMessage.safeParse(json);
    if (!parsed.success) return close(TERMINAL_CLOSE.invalidMessage, "not a valid terminal message");
    const message = parsed.data;
    if (message.type === "resize") session.resize(message.cols, message.rows);
    else if (!session.input(message.data)) close(TERMINAL_CLOSE.tooSlow, "the shell is not reading input");
  });
}
