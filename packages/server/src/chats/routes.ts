import {
  ApprovalBody,
  Chat,
  ChatWithMessages,
  CreateChatBody,
  ErrorEnvelope,
  FixErrorsBody,
  FixErrorsResponse,
  Id,
  IdOrSlug,
  RunEvent,
  RunEventsQuery,
  SendMessageBody,
  SendMessageResponse,
  UpdateChatBody,
} from "@kiln/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type EventStreams, lastEventId, wantsStream } from "../http/event-stream.ts";
import { principalOf } from "../http/principal.ts";
import type { OrgAccess, OrgService } from "../orgs/service.ts";
import type { ChatService } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["chats"];
const ProjectParams = z.strictObject({ org: IdOrSlug, project: IdOrSlug });
const ChatParams = ProjectParams.extend({ chatId: Id });
const MessageParams = ChatParams.extend({ messageId: Id });

export function chatRoutes(
  app: FastifyInstance,
  deps: { orgs: OrgService; chats: ChatService; streams: EventStreams },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { orgs, chats, streams } = deps;
  const base = "/api/orgs/:org/projects/:project/chats";
  const access = (request: FastifyRequest<{ Params: { org: string } }>) =>
    orgs.access(principalOf(request).userId, request.params.org);
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

  r.get(
    base,
    {
      schema: {
        tags,
        summary: "List the project's chats",
        params: ProjectParams,
        response: { 200: z.array(Chat), ...errors },
      },
    },
    async (request) => chats.list(await access(request), request.params.project),
  );

  r.post(
    base,
    {
      schema: {
        tags,
        summary: "Start a chat",
        params: ProjectParams,
        body: CreateChatBody,
        response: { 201: Chat, ...errors },
      },
    },
    async (request, reply) => {
      const chat = await chats.create(await access(request), request.params.project, request.body);
      return reply.code(201).send(chat);
    },
  );

  r.get(
    `${base}/:chatId`,
    {
      schema: {
        tags,
        summary: "A chat with its messages",
        params: ChatParams,
        response: { 200: ChatWithMessages, ...errors },
      },
    },
    async (request) => chats.get(await access(request), request.params.project, request.params.chatId),
  );

  r.patch(
    `${base}/:chatId`,
    {
      schema: {
        tags,
        summary: "Rename a chat or change its mode, model or approve-all",
        params: ChatParams,
        body: UpdateChatBody,
        response: { 200: Chat, ...errors },
      },
    },
    async (request) =>
      chats.update(await access(request), request.params.project, request.params.chatId, request.body),
  );

  r.delete(
    `${base}/:chatId`,
    {
      schema: {
        tags,
        summary: "Delete a chat (stops its run)",
        params: ChatParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (request, reply) => {
      await chats.delete(await access(request), request.params.project, request.params.chatId);
      return reply.code(204).send(null);
    },
  );

  r.post(
    `${base}/:chatId/messages`,
    {
      schema: {
        tags,
        summary:
          "Send a message; the agent answers (JSON 202 with the message ids, or SSE with Accept: text/event-stream)",
        params: ChatParams,
        body: SendMessageBody,
        response: { 202: SendMessageResponse, ...errors },
      },
    },
    async (request, reply) => {
      const who = await access(request);
      // A turn is not started for a stream that would be refused.
      if (wantsStream(request)) streams.ensureRoom(request);
      const sent = await chats.send(who, request.params.project, request.params.chatId, request.body);
      if (!wantsStream(request)) return reply.code(202).send(sent);
      return stream(request, reply, who, { ...request.params, messageId: sent.assistantMessage.id }, 0);
    },
  );

  r.get(
    `${base}/:chatId/messages/:messageId/events`,
    {
      schema: {
        tags,
        summary: "A turn's events: JSON, or a live SSE stream that replays from Last-Event-ID",
        params: MessageParams,
        querystring: RunEventsQuery,
        response: { 200: z.array(RunEvent), ...errors },
      },
    },
    async (request, reply) => {
      const who = await access(request);
      const after = lastEventId(request, request.query.after);
      if (wantsStream(request)) return stream(request, reply, who, request.params, after);
      const events: RunEvent[] = [];
      const done = new AbortController();
      done.abort();
      await chats.follow(
        who,
        request.params.project,
        request.params.chatId,
        request.params.messageId,
        after,
        (e) => events.push(e),
        done.signal,
      );
      return events;
    },
  );

  r.post(
    `${base}/:chatId/messages/:messageId/resume`,
    {
      schema: {
        tags,
        summary: "Continue an interrupted, failed or cancelled last turn",
        params: MessageParams,
        response: { 202: SendMessageResponse, ...errors },
      },
    },
    async (request, reply) => {
      const who = await access(request);
      if (wantsStream(request)) streams.ensureRoom(request);
      const sent = await chats.resume(
        who,
        request.params.project,
        request.params.chatId,
        request.params.messageId,
      );
      if (!wantsStream(request)) return reply.code(202).send(sent);
      return stream(request, reply, who, { ...request.params, messageId: sent.assistantMessage.id }, 0);
    },
  );

  r.post(
    "/api/orgs/:org/projects/:project/fix-errors",
    {
      schema: {
        tags,
        summary: "Ask the agent to fix the errors the preview reports (in a given chat or a new one)",
        params: ProjectParams,
        body: FixErrorsBody,
        response: { 202: FixErrorsResponse, ...errors },
      },
    },
    async (request, reply) => {
      const sent = await chats.fixErrors(await access(request), request.params.project, request.body);
      return reply.code(202).send(sent);
    },
  );

  r.post(
    `${base}/:chatId/cancel`,
    {
      schema: {
        tags,
        summary: "Stop the running turn",
        params: ChatParams,
        response: { 200: Chat, ...errors },
      },
    },
    async (request) => chats.cancel(await access(request), request.params.project, request.params.chatId),
  );

  r.post(
    `${base}/:chatId/approvals`,
    {
      schema: {
        tags,
        summary: "Approve, approve all or reject a tool call that waits for a decision",
        params: ChatParams,
        body: ApprovalBody,
        response: { 200: Chat, ...errors },
      },
    },
    async (request) =>
      chats.decide(await access(request), request.params.project, request.params.chatId, request.body),
  );
}
