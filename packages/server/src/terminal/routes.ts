import { routes, TERMINAL_CLOSE, TerminalClientMessage, type TerminalServerMessage } from "@kiln/protocol";
import type { FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { ForbiddenError, KilnError } from "../errors/errors.ts";
import { principalOf } from "../http/principal.ts";
import { studioOrigins } from "../http/studio-origin.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { TerminalService } from "./service.ts";
import type { TerminalSession } from "./session.ts";

/** Output queued for a socket beyond this means the client is not reading; it is dropped, the shell lives on. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export function terminalRoutes(
  router: OrgRouter,
  deps: { terminals: TerminalService; publicUrl: string },
): void {
  const { terminals } = deps;
  const c = routes.terminals;
  const allowed = studioOrigins(deps.publicUrl);
  const opened = new WeakMap<FastifyRequest, TerminalSession>();

  router.handle(c.create, async (request) =>
    terminals.create(request.scope, request.params.project, request.body),
  );

  router.handle(c.list, async (request) => terminals.list(request.scope, request.params.project));

  router.handle(c.kill, async (request) => {
    await terminals.kill(request.scope, request.params.project, request.params.terminalId);
    return { ok: true as const };
  });

  router.handle(
    c.socket,
    async () => {
      throw new KilnError("upgrade_required", "connect with a WebSocket (Upgrade: websocket)", {
        headers: { upgrade: "websocket" },
      });
    },
    {
      // Checked before the upgrade, so a refusal is a plain HTTP answer the client can read.
      preHandler: async (request) => {
        if (request.ws) checkOrigin(request, allowed, deps.publicUrl);
        const session = await terminals.open(
          request.scope,
          request.params.project,
          request.params.terminalId,
        );
        opened.set(request, session);
      },
      wsHandler: (socket, request) => {
        const session = opened.get(request);
        if (!session) return socket.close(TERMINAL_CLOSE.invalidMessage, "no terminal");
        attach(socket, session);
      },
    },
  );
}

/**
 * WebSocket upgrades are GETs, so CSRF tokens do not guard them, and browsers send cookies on cross-site
 * WebSocket requests: without this, any page could open a shell with a visitor's session. Browsers always
 * send Origin on WebSocket requests; a cookie without one is refused too.
 */
function checkOrigin(request: FastifyRequest, allowed: ReadonlySet<string>, publicUrl: string): void {
  const origin = request.headers.origin;
  if (origin === undefined && principalOf(request).via !== "cookie") return;
  if (origin === undefined || !allowed.has(origin)) {
    throw new ForbiddenError(
      "origin_forbidden",
      `WebSocket connections must come from the studio at ${new URL(publicUrl).origin}`,
    );
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
