import type {
  ApprovalDecision,
  Chat,
  ChatWithMessages,
  CreateChatBody,
  SendMessageBody,
  SendMessageResponse,
  UpdateChatBody,
} from "@kiln/protocol";
import { http } from "../client.ts";
import { chatPath, e, projectPath } from "./paths.ts";

export const chats = {
  list: (org: string, project: string) => http.get<Chat[]>(`${projectPath(org, project)}/chats`),
  create: (org: string, project: string, body: CreateChatBody) =>
    http.post<Chat>(`${projectPath(org, project)}/chats`, body),
  get: (org: string, project: string, chatId: string) =>
    http.get<ChatWithMessages>(chatPath(org, project, chatId)),
  update: (org: string, project: string, chatId: string, body: UpdateChatBody) =>
    http.patch<Chat>(chatPath(org, project, chatId), body),
  remove: (org: string, project: string, chatId: string) =>
    http.delete<undefined>(chatPath(org, project, chatId)),
  send: (org: string, project: string, chatId: string, body: SendMessageBody) =>
    http.post<SendMessageResponse>(`${chatPath(org, project, chatId)}/messages`, body),
  cancel: (org: string, project: string, chatId: string) =>
    http.post<Chat>(`${chatPath(org, project, chatId)}/cancel`),
  decide: (org: string, project: string, chatId: string, toolCallId: string, decision: ApprovalDecision) =>
    http.post<Chat>(`${chatPath(org, project, chatId)}/approvals`, { toolCallId, decision }),
  resume: (org: string, project: string, chatId: string, messageId: string) =>
    http.post<SendMessageResponse>(`${chatPath(org, project, chatId)}/messages/${e(messageId)}/resume`),
  /** Server-sent events of one turn; `after` replays from that event number on. */
  eventsUrl: (org: string, project: string, chatId: string, messageId: string, after: number) =>
    `${chatPath(org, project, chatId)}/messages/${e(messageId)}/events${after > 0 ? `?after=${after}` : ""}`,
};
