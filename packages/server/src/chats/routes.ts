import { type RunEvent, routes } from "@kiln/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import { type EventStreams, lastEventId, wantsStream } from "../http/event-stream.ts";
import { lingerOnClose } from "../http/linger.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ChatService } from "./service.ts";
import type { ProjectStarter } from "./start-project.ts";

export function chatRoutes(
  router: OrgRouter,
  deps: { chats: ChatService; starter: ProjectStarter; streams: EventStreams },
): void {
  const { chats, starter, streams } = deps;
  const c = routes.chats;
  /** One turn's events: replay after `after`, then live until the turn ends. */
  const stream = async (
    request: FastifyRequest,
    reply: FastifyReply,
    who: OrgAccess,
    params: { project: string; chatId: string; messageId: string },
    after: number,
  ) => {
    // Checked before the stream starts, so a missing or foreign turn is a plain 404.
    const follow = await chats.watch(who, params.project, params.chatId, params.messageId);
    return streams.numbered<RunEvent>(request, reply, (emit, signal) => follow(after, emit, signal));
  };

  router.handle(c.list, async (request) => chats.list(request.scope, request.params.project));
  router.handle(c.create, async (request) =>
    chats.create(request.scope, request.params.project, request.body),
  );
  router.handle(c.get, async (request) =>
    chats.get(request.scope, request.params.project, request.params.chatId),
  );
  router.handle(c.update, async (request) =>
    chats.update(request.scope, request.params.project, request.params.chatId, request.body),
  );
  router.handle(c.remove, async (request) => {
    await chats.delete(request.scope, request.params.project, request.params.chatId);
    return undefined;
  });

  /** The stream of a turn this request has just started (no lookups: it exists and is the caller's). */
  const streamStarted = (request: FastifyRequest, reply: FastifyReply, who: OrgAccess, messageId: string) => {
    const follow = chats.followStarted(who, messageId);
    return streams.numbered<RunEvent>(request, reply, (emit, signal) => follow(0, emit, signal));
  };

  router.handle(c.uploadImage, async (request, reply) => {
    try {
      const { project, chatId } = request.params;
      return await chats.images.upload(
        request.scope,
        project,
        chatId,
        request.body,
        request.headers["content-length"],
      );
    } catch (err) {
      // Refused before the upload was read to its end: answer, then close after a bounded linger.
      if (!request.raw.complete) {
        reply.header("connection", "close");
        lingerOnClose(request.raw.socket);
      }
      throw err;
    }
  });
  router.handle(c.image, async (request, reply) => {
    const { project, chatId, imageId } = request.params;
    const image = await chats.images.get(request.scope, project, chatId, imageId);
    // Only the four raster types are ever stored (checked by their bytes); nothing here can run script, and
    // the headers say so to a browser that would sniff or open it as a document.
    reply
      .type(image.mediaType)
      .header("x-content-type-options", "nosniff")
      .header("content-security-policy", "default-src 'none'; sandbox")
      .header("content-disposition", "inline")
      .header("cache-control", "private, max-age=86400, immutable");
    return reply.send(Buffer.from(image.data));
  });

  router.handle(c.send, async (request, reply) => {
    // A turn is not started for a stream that would be refused.
    if (wantsStream(request)) streams.ensureRoom(request);
    const sent = await chats.send(request.scope, request.params.project, request.params.chatId, request.body);
    if (!wantsStream(request)) return sent;
    return streamStarted(request, reply, request.scope, sent.assistantMessage.id);
  });

  router.handle(c.events, async (request, reply) => {
    const after = lastEventId(request, request.query.after);
    if (wantsStream(request)) return stream(request, reply, request.scope, request.params, after);
    const { project, chatId, messageId } = request.params;
    return chats.events(request.scope, project, chatId, messageId, after);
  });

  router.handle(c.resume, async (request, reply) => {
    if (wantsStream(request)) streams.ensureRoom(request);
    const { project, chatId, messageId } = request.params;
    const sent = await chats.resume(request.scope, project, chatId, messageId);
    if (!wantsStream(request)) return sent;
    return streamStarted(request, reply, request.scope, sent.assistantMessage.id);
  });

  router.handle(c.fixErrors, async (request) =>
    chats.fixErrors(request.scope, request.params.project, request.body),
  );
  router.handle(c.startProject, async (request) => starter.start(request.scope, request.body));
  router.handle(c.cancel, async (request) =>
    chats.cancel(request.scope, request.params.project, request.params.chatId),
  );
  router.handle(c.decide, async (request) =>
    chats.decide(request.scope, request.params.project, request.params.chatId, request.body),
  );
}
