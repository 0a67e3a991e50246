import { type ApprovalDecision, routes } from "@kiln/protocol";
import { type BodyOf, call, callUpload, urlOf } from "../call.ts";

const c = routes.chats;

export const chats = {
  list: (org: string, project: string) => call(c.list, { params: { org, project } }),
  create: (org: string, project: string, body: BodyOf<typeof c.create>) =>
    call(c.create, { params: { org, project }, body }),
  get: (org: string, project: string, chatId: string) => call(c.get, { params: { org, project, chatId } }),
  update: (org: string, project: string, chatId: string, body: BodyOf<typeof c.update>) =>
    call(c.update, { params: { org, project, chatId }, body }),
  remove: (org: string, project: string, chatId: string) =>
    call(c.remove, { params: { org, project, chatId } }),
  send: (org: string, project: string, chatId: string, body: BodyOf<typeof c.send>) =>
    call(c.send, { params: { org, project, chatId }, body }),
  /** An image for the chat's next message: its bytes, which the server checks (ADR 0041). */
  uploadImage: (org: string, project: string, chatId: string, image: Blob) =>
    callUpload(c.uploadImage, { params: { org, project, chatId } }, image),
  imageUrl: (org: string, project: string, chatId: string, imageId: string) =>
    urlOf(c.image, { params: { org, project, chatId, imageId } }),
  cancel: (org: string, project: string, chatId: string) =>
    call(c.cancel, { params: { org, project, chatId } }),
  decide: (org: string, project: string, chatId: string, toolCallId: string, decision: ApprovalDecision) =>
    call(c.decide, { params: { org, project, chatId }, body: { toolCallId, decision } }),
  /** The prompt-first start: a new project named after the prompt, with the prompt sent to the agent. */
  startProject: (org: string, body: BodyOf<typeof c.startProject>) =>
    call(c.startProject, { params: { org }, body }),
  resume: (org: string, project: string, chatId: string, messageId: string) =>
    call(c.resume, { params: { org, project, chatId, messageId } }),
  /** Server-sent events of one turn; `after` replays from that event number on. */
  eventsUrl: (org: string, project: string, chatId: string, messageId: string, after: number) =>
    urlOf(c.events, { params: { org, project, chatId, messageId }, query: after > 0 ? { after } : {} }),
};
