import { z } from "zod";
import {
  ApprovalBody,
  CHAT_IMAGE_UPLOAD_TYPE,
  Chat,
  ChatImage,
  ChatImageBytes,
  ChatWithMessages,
  CreateChatBody,
  FixErrorsBody,
  FixErrorsResponse,
  RunEvent,
  RunEventsQuery,
  SendMessageBody,
  SendMessageResponse,
  StartedProject,
  StartProjectBody,
  UpdateChatBody,
} from "../chats.ts";
import { Id } from "../common.ts";
import type { ErrorCode } from "../errors.ts";
import { defineRoute } from "./define.ts";
import { OrgParams, ProjectParams } from "./params.ts";

const tags = ["chats"];
const CHATS = "/api/orgs/:org/projects/:project/chats";
const CHAT = `${CHATS}/:chatId` as const;
const MESSAGE = `${CHAT}/messages/:messageId` as const;
const ChatParams = ProjectParams.extend({ chatId: Id });
const MessageParams = ChatParams.extend({ messageId: Id });
const ImageParams = ChatParams.extend({ imageId: Id });

/** Why starting a turn can fail: the chat is busy, or its model cannot be had. */
const TURN_ERRORS = [
  "chat_busy",
  "model_not_configured",
  "model_not_found",
  "provider_not_found",
  "provider_auth_failed",
] as const satisfies readonly ErrorCode[];

export const chats = {
  list: defineRoute({
    method: "GET",
    path: CHATS,
    summary: "List the project's chats",
    tags,
    permission: "chats.read",
    params: ProjectParams,
    response: z.array(Chat),
    errors: ["project_not_found"],
  }),
  create: defineRoute({
    method: "POST",
    path: CHATS,
    summary: "Start a chat",
    tags,
    permission: "chats.write",
    params: ProjectParams,
    body: CreateChatBody,
    status: 201,
    response: Chat,
    errors: ["project_not_found", "agent_not_found"],
  }),
  get: defineRoute({
    method: "GET",
    path: CHAT,
    summary: "A chat with its messages",
    tags,
    permission: "chats.read",
    params: ChatParams,
    response: ChatWithMessages,
    errors: ["project_not_found", "chat_not_found"],
  }),
  update: defineRoute({
    method: "PATCH",
    path: CHAT,
    summary: "Rename a chat or change its mode, model or approve-all",
    tags,
    permission: "chats.write",
    params: ChatParams,
    body: UpdateChatBody,
    response: Chat,
    errors: ["project_not_found", "chat_not_found", "agent_not_found"],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: CHAT,
    summary: "Delete a chat (stops its run)",
    tags,
    permission: "chats.write",
    params: ChatParams,
    status: 204,
    response: z.null(),
    errors: ["project_not_found", "chat_not_found"],
  }),
  uploadImage: defineRoute({
    method: "POST",
    path: `${CHAT}/images`,
    summary:
      "Upload an image for the chat's next message (the bytes as application/octet-stream; PNG, JPEG, GIF or WebP, at most 5 MB)",
    tags,
    permission: "chats.write",
    params: ChatParams,
    upload: CHAT_IMAGE_UPLOAD_TYPE,
    status: 201,
    response: ChatImage,
    errors: ["project_not_found", "chat_not_found", "image_invalid", "payload_too_large"],
  }),
  image: defineRoute({
    method: "GET",
    path: `${CHAT}/images/:imageId`,
    summary: "An image of the chat, as the type its bytes were checked to be",
    tags,
    permission: "chats.read",
    params: ImageParams,
    response: ChatImageBytes,
    produces: "image/*",
    errors: ["project_not_found", "chat_not_found", "image_not_found"],
  }),
  /** JSON, or with Accept: text/event-stream the turn's events as they come (like `events`). */
  send: defineRoute({
    method: "POST",
    path: `${CHAT}/messages`,
    summary:
      "Send a message; the agent answers (JSON 202 with the message ids, or SSE with Accept: text/event-stream)",
    tags,
    permission: "chats.write",
    params: ChatParams,
    body: SendMessageBody,
    status: 202,
    response: SendMessageResponse,
    errors: ["project_not_found", "chat_not_found", "image_not_found", "model_no_images", ...TURN_ERRORS],
  }),
  /** JSON (one page after `after`), or with Accept: text/event-stream live until the turn ends. */
  events: defineRoute({
    method: "GET",
    path: `${MESSAGE}/events`,
    summary: "A turn's events: JSON, or a live SSE stream that replays from Last-Event-ID",
    tags,
    permission: "chats.read",
    params: MessageParams,
    query: RunEventsQuery,
    response: z.array(RunEvent),
    errors: ["project_not_found", "chat_not_found", "message_not_found"],
  }),
  resume: defineRoute({
    method: "POST",
    path: `${MESSAGE}/resume`,
    summary: "Continue an interrupted, failed or cancelled last turn",
    tags,
    permission: "chats.write",
    params: MessageParams,
    status: 202,
    response: SendMessageResponse,
    errors: ["project_not_found", "chat_not_found", "message_not_found", "conflict", ...TURN_ERRORS],
  }),
  fixErrors: defineRoute({
    method: "POST",
    path: "/api/orgs/:org/projects/:project/fix-errors",
    summary: "Ask the agent to fix the errors the preview reports (in a given chat or a new one)",
    tags,
    permission: "chats.write",
    params: ProjectParams,
    body: FixErrorsBody,
    status: 202,
    response: FixErrorsResponse,
    errors: ["project_not_found", "chat_not_found", "no_preview_errors", ...TURN_ERRORS],
  }),
  /** The prompt-first start: one call makes the project and sends the prompt, or makes nothing. */
  startProject: defineRoute({
    method: "POST",
    path: "/api/orgs/:org/start",
    summary:
      "Start a project from a prompt: pick a template, name the project after the prompt, start its dev server and send the prompt to the agent",
    tags,
    // Running the agent needs chats.write as well; the service checks it (every role with one has both).
    permission: "projects.write",
    params: OrgParams,
    body: StartProjectBody,
    status: 201,
    response: StartedProject,
    errors: ["template_not_found", "limit_exceeded", ...TURN_ERRORS],
  }),
  cancel: defineRoute({
    method: "POST",
    path: `${CHAT}/cancel`,
    summary: "Stop the running turn",
    tags,
    permission: "chats.write",
    params: ChatParams,
    response: Chat,
    errors: ["project_not_found", "chat_not_found", "run_not_active"],
  }),
  decide: defineRoute({
    method: "POST",
    path: `${CHAT}/approvals`,
    summary: "Approve, approve all or reject a tool call that waits for a decision",
    tags,
    permission: "chats.write",
    params: ChatParams,
    body: ApprovalBody,
    response: Chat,
    errors: ["project_not_found", "chat_not_found", "approval_not_found"],
  }),
};
