import type {
  ApprovalDecision,
  ApprovalMode,
  Chat,
  ChatWithMessages,
  SendMessageResponse,
} from "@kiln/protocol";
import type { QueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { toast } from "../../ui/toast.tsx";
import { withMessage } from "./fold.ts";

/** What the chat panel does, shared by its parts and by "Fix with agent" in the preview. */
export class ChatActions {
  readonly #q: QueryClient;
  readonly #org: string;
  readonly #project: string;

  constructor(queryClient: QueryClient, org: string, project: string) {
    this.#q = queryClient;
    this.#org = org;
    this.#project = project;
  }

  /** Puts a new turn (and the chat, when it is new here) into the cache; the follower streams it. */
  async addTurn(chat: Chat, sent: SendMessageResponse): Promise<void> {
    const key = keys.chat(this.#org, this.#project, chat.id);
    // A read still on its way would land after this and take the new turn away again.
    await this.#q.cancelQueries({ queryKey: key });
    const old = this.#q.getQueryData<ChatWithMessages>(key);
    let next: ChatWithMessages = old ? { ...old, ...chat } : { ...chat, messages: [] };
    if (sent.userMessage) next = withMessage(next, sent.userMessage);
    next = withMessage(next, sent.assistantMessage);
    this.#q.setQueryData(key, next);
    // A chat this page had not loaded yet has earlier messages too.
    if (!old) void this.#q.invalidateQueries({ queryKey: key });
    void this.#q.invalidateQueries({ queryKey: keys.chats(this.#org, this.#project) });
  }

  async createChat(settings: { mode: ApprovalMode; model: string | null }): Promise<Chat> {
    const chat = await api.chats.create(this.#org, this.#project, {
      mode: settings.mode,
      ...(settings.model ? { model: settings.model } : {}),
    });
    this.#q.setQueryData<ChatWithMessages>(keys.chat(this.#org, this.#project, chat.id), {
      ...chat,
      messages: [],
    });
    void this.#q.invalidateQueries({ queryKey: keys.chats(this.#org, this.#project) });
    return chat;
  }

  async send(chat: Chat, content: string): Promise<boolean> {
    try {
      await this.addTurn(chat, await api.chats.send(this.#org, this.#project, chat.id, { content }));
      return true;
    } catch (err) {
      if (isApiError(err, "chat_busy")) toast.error("The agent is still answering. Stop it or wait.");
      else toast.error(`Could not send: ${describeError(err)}`);
      this.refresh(chat.id);
      return false;
    }
  }

  async resume(chat: Chat, messageId: string): Promise<void> {
    try {
      await this.addTurn(chat, await api.chats.resume(this.#org, this.#project, chat.id, messageId));
    } catch (err) {
      toast.error(`Could not resume: ${describeError(err)}`);
      this.refresh(chat.id);
    }
  }

  async cancel(chatId: string): Promise<void> {
    try {
      await api.chats.cancel(this.#org, this.#project, chatId);
    } catch (err) {
      // Already over (or running on another server that will notice): the reload shows which.
      if (!isApiError(err, "run_not_active")) toast.error(`Could not stop: ${describeError(err)}`);
      this.refresh(chatId);
    }
  }

  async decide(chatId: string, toolCallId: string, decision: ApprovalDecision): Promise<void> {
    try {
      await api.chats.decide(this.#org, this.#project, chatId, toolCallId, decision);
    } catch (err) {
      if (isApiError(err, "approval_not_found")) toast.error("That request is no longer waiting.");
      else toast.error(describeError(err));
      this.refresh(chatId);
    }
  }

  async update(chatId: string, body: { mode?: ApprovalMode; model?: string | null }): Promise<void> {
    const key = keys.chat(this.#org, this.#project, chatId);
    try {
      const chat = await api.chats.update(this.#org, this.#project, chatId, body);
      this.#q.setQueryData<ChatWithMessages>(
        key,
        (old) => old && { ...old, ...chat, messages: old.messages },
      );
      void this.#q.invalidateQueries({ queryKey: keys.chats(this.#org, this.#project) });
    } catch (err) {
      toast.error(describeError(err));
    }
  }

  async remove(chatId: string): Promise<void> {
    await api.chats.remove(this.#org, this.#project, chatId);
    this.#q.removeQueries({ queryKey: keys.chat(this.#org, this.#project, chatId) });
    await this.#q.invalidateQueries({ queryKey: keys.chats(this.#org, this.#project) });
  }

  refresh(chatId: string): void {
    void this.#q.invalidateQueries({ queryKey: keys.chat(this.#org, this.#project, chatId) });
  }
}
