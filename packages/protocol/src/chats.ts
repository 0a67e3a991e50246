import { z } from "zod";
import { AgentEvent, ApprovalDecision, ApprovalMode, RunStatus, RunStopReason, Usage } from "./agent.ts";
import { Id, Name, Text, Timestamp } from "./common.ts";
import { MessagePart } from "./message-parts.ts";
import { Project } from "./projects.ts";
import { TemplateName } from "./templates.ts";

/** A chat with the agent, inside one project. */

export const MAX_MESSAGE_CHARS = 100_000;

export const ModelRef = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@/-]*$/, "a model reference like `openai/gpt-4.1-mini`")
  .describe("`<provider>/<model>`, as listed by GET /api/orgs/{org}/llm/models");

export const Chat = z
  .object({
    id: Id,
    projectId: Id,
    title: z.string(),
    mode: ApprovalMode,
    model: z.string().nullable().describe("Model for new turns; null = the instance default"),
    approveAll: z.boolean().describe("Every tool call in this chat is approved (set by approve-all)"),
    agentId: Id.describe("The agent definition the chat's turns run (ADR 0035)"),
    agentVersion: z.number().int().positive().describe("The agent's version new turns run"),
    /** The assistant message currently being generated, if any. */
    runningMessageId: Id.nullable(),
    createdBy: Id.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "Chat" });
export type Chat = z.infer<typeof Chat>;

export const MessageStatus = z.enum(["complete", ...RunStatus.options]);
export type MessageStatus = z.infer<typeof MessageStatus>;

export const ChatMessage = z
  .object({
    id: Id,
    chatId: Id,
    role: z.enum(["user", "assistant"]),
    parts: z.array(MessagePart),
    status: MessageStatus,
    reason: RunStopReason.nullable(),
    detail: z.string().nullable(),
    model: z.string().nullable(),
    usage: Usage.nullable(),
    /** The git commit this turn's changes were saved as (null when it changed nothing). */
    checkpointSha: z.string().nullable(),
    /** The agent definition and version this answer ran (null for the person's messages). */
    agentId: Id.nullable(),
    agentVersion: z.number().int().positive().nullable(),
    createdBy: Id.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "ChatMessage" });
export type ChatMessage = z.infer<typeof ChatMessage>;

export const ChatWithMessages = Chat.extend({ messages: z.array(ChatMessage) }).meta({
  id: "ChatWithMessages",
});
export type ChatWithMessages = z.infer<typeof ChatWithMessages>;

export const CreateChatBody = z.strictObject({
  title: Name.optional().describe("Defaults to the first message's beginning"),
  mode: ApprovalMode.optional(),
  model: ModelRef.optional(),
  agentId: Id.optional().describe("The org's agent to run; defaults to the built-in Kiln agent"),
});
export type CreateChatBody = z.infer<typeof CreateChatBody>;

export const UpdateChatBody = z.strictObject({
  title: Name.optional(),
  mode: ApprovalMode.optional(),
  model: ModelRef.nullable().optional(),
  approveAll: z.boolean().optional(),
  agentId: Id.optional().describe("Switch to this agent's current version"),
});
export type UpdateChatBody = z.infer<typeof UpdateChatBody>;

/** What a person asks the agent: any text but an empty one. */
const Prompt = Text(MAX_MESSAGE_CHARS).refine((s) => s.trim().length > 0, "must not be empty");

/** Images a chat accepts (ADR 0041): checked by their magic bytes, never by a client's content-type. */
export const CHAT_IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"] as const;
export const ChatImageType = z.enum(CHAT_IMAGE_TYPES);
export type ChatImageType = z.infer<typeof ChatImageType>;
export const MAX_CHAT_IMAGE_BYTES = 5 * 1024 * 1024;
export const MAX_IMAGES_PER_MESSAGE = 4;
/** Uploads are sent as raw bytes under this type; the server decides what they are. */
export const CHAT_IMAGE_UPLOAD_TYPE = "application/octet-stream";

export const ChatImage = z
  .object({ id: Id, chatId: Id, mediaType: ChatImageType, size: z.number().int().positive() })
  .meta({ id: "ChatImage" });
export type ChatImage = z.infer<typeof ChatImage>;

export const ChatImageBytes = z
  .string()
  .meta({ format: "binary", description: "A PNG, JPEG, GIF or WebP image" });

export const SendMessageBody = z.strictObject({
  content: Prompt.describe("What the user asks for"),
  images: z
    .array(Id)
    .max(MAX_IMAGES_PER_MESSAGE)
    .optional()
    .describe("Ids of images uploaded to this chat, shown to the model with the message"),
  mode: ApprovalMode.optional().describe("Overrides the chat's mode for this turn"),
  model: ModelRef.optional().describe("Overrides the chat's model for this turn"),
});
export type SendMessageBody = z.infer<typeof SendMessageBody>;

export const SendMessageResponse = z.object({
  userMessage: ChatMessage.nullable(),
  assistantMessage: ChatMessage,
});
export type SendMessageResponse = z.infer<typeof SendMessageResponse>;

export const ApprovalBody = z.strictObject({
  toolCallId: z.string().min(1).max(200),
  decision: ApprovalDecision,
});
export type ApprovalBody = z.infer<typeof ApprovalBody>;

/** An event as stored and streamed: the agent event plus its position in the run (the SSE id). */
export const RunEvent = z
  .object({ seq: z.number().int().positive(), event: AgentEvent })
  .meta({ id: "RunEvent" });
export type RunEvent = z.infer<typeof RunEvent>;

export const RunEventsQuery = z.strictObject({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .optional()
    .describe("Only events with seq greater than this (Last-Event-ID wins when both are sent)"),
});
export type RunEventsQuery = z.infer<typeof RunEventsQuery>;

export const FixErrorsBody = z.strictObject({
  chatId: Id.optional().describe("Chat to continue; a new chat when absent"),
  mode: ApprovalMode.optional(),
  model: ModelRef.optional(),
});
export type FixErrorsBody = z.infer<typeof FixErrorsBody>;

export const FixErrorsResponse = SendMessageResponse.extend({ chat: Chat });
export type FixErrorsResponse = z.infer<typeof FixErrorsResponse>;

export const StartProjectBody = z.strictObject({
  prompt: Prompt.describe("What to build: the project is named after it and it is the agent's first message"),
  template: TemplateName.optional().describe("Template to start from; picked from the prompt when absent"),
  mode: ApprovalMode.optional(),
  model: ModelRef.optional(),
});
export type StartProjectBody = z.infer<typeof StartProjectBody>;

/** The new project, its chat, and the first turn (running). */
export const StartedProject = FixErrorsResponse.extend({ project: Project });
export type StartedProject = z.infer<typeof StartedProject>;
