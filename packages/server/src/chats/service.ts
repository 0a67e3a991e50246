import { randomUUID } from "node:crypto";
import type { ToolDefinition, Workspace } from "@kiln/agent";
import type {
  ApprovalBody,
  ApprovalMode,
  Chat,
  ChatMessage,
  ChatWithMessages,
  CreateChatBody,
  FixErrorsBody,
  FixErrorsResponse,
  MessagePart,
  Project,
  RunEvent,
  SendMessageBody,
  SendMessageResponse,
  UpdateChatBody,
} from "@kiln/protocol";
import type { LanguageModel } from "ai";
import { eq } from "drizzle-orm";
import type { AgentService } from "../agents/service.ts";
import type { Database, Executor } from "../db/client.ts";
import { chatMessages, chats } from "../db/schema-tenant.ts";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import { ConflictError, KilnError, NotFoundError } from "../errors/errors.ts";
import type { ModelRetryNotice } from "../llm/call-context.ts";
import type { McpToolset } from "../mcp-client/toolset.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import { FanOut } from "../streams/fan-out.ts";
import type { ChatEngine } from "./engine.ts";
import { ChatImages, imageIdsOf, imageParts, loadImages } from "./images.ts";
import { ChatRun } from "./run.ts";
import { StartGate, TURN_STARTS_AT_ONCE } from "./start-gate.ts";
import {
  type ChatRow,
  EVENTS_PAGE,
  eventsAfter,
  findChat,
  findMessage,
  lastEventSeq,
  listChats,
  listMessages,
  lockChatForTurn,
  type MessageRow,
  runningMessageIds,
  toChat,
  toMessage,
} from "./store.ts";
import { systemPrompt } from "./system-prompt.ts";

const NEW_CHAT_TITLE = "New chat";
const POLL_MS = 300;
/** How long a cancel or decision sent to another replica is given to show in the stored turn. */
const REMOTE_WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Where a turn's model comes from: the LLM gateway (every call logged and rate-limited there). */
export interface ModelSource {
  languageModel(
    ctx: {
      org: OrgAccess["org"];
      userId: string;
      projectId: string;
      chatId: string;
      messageId: string;
      source: "chat";
      onRetry?: (notice: ModelRetryNotice) => void;
    },
    modelRef?: string,
    /** A transaction open in the org's schema to read the org's model settings in. */
    tx?: Executor,
  ): Promise<{ model: LanguageModel; modelRef: string; contextWindow: number; images?: boolean }>;
}

export interface ChatServiceDeps {
  database: Database;
  projects: ProjectService;
  engine: ChatEngine;
  agents: Pick<AgentService, "pick" | "version">;
  models: ModelSource;
  workspaceFor(access: OrgAccess, project: Project): Workspace;
  /** The tools a turn is offered: the agent's allowed ones, as the mode permits. */
  toolsFor(mode: ApprovalMode, allowed: readonly string[]): ToolDefinition[];
  /** The agent's MCP servers' tools for one turn (ADR 0039); asked only when the agent names servers. */
  mcpToolsFor?(access: OrgAccess, project: Project, serverIds: readonly string[]): Promise<McpToolset>;
  /** The project's guide (KILN.md) for the system prompt, if it has one. */
  guideFor(access: OrgAccess, project: Project): Promise<string | undefined>;
  /** The preview's current errors as a message to the agent; null when there are none. */
  errorsFor(access: OrgAccess, project: Project): Promise<string | null>;
}

/** Chats with the agent: the conversation CRUD, starting/cancelling/resuming turns, approvals, replay. */
type TurnInput = {
  content: string | undefined;
  /** Ids of images uploaded to the chat, shown with the message (ADR 0041). */
  images?: readonly string[] | undefined;
  mode?: ApprovalMode | undefined;
  model?: string | undefined;
};

export class ChatService {
  readonly #d: ChatServiceDeps;
  /** Followers of turns that run on another replica (or ended), one poller per turn. */
  readonly #feeds = new FanOut<RunEvent>({
    page: EVENTS_PAGE,
    pollMs: POLL_MS,
    transient: isDatabaseUnavailable,
  });
  /** Turn starts on this server, first come first served (start-gate.ts). */
  readonly #starts = new StartGate(TURN_STARTS_AT_ONCE);

  /** The images a chat's messages show (ADR 0041). */
  readonly images: ChatImages;

  constructor(deps: ChatServiceDeps) {
    this.#d = deps;
    this.images = new ChatImages({ database: deps.database, projects: deps.projects });
  }

  async list(access: OrgAccess, projectRef: string): Promise<Chat[]> {
    requirePermission(access.role, "chats.read");
    const project = await this.#d.projects.get(access, projectRef);
    return this.#d.database.tenant(access.org.schemaName, async (tx) => {
      const rows = await listChats(tx, project.id);
      const running = await runningMessageIds(
        tx,
        rows.map((r) => r.id),
      );
      return rows.map((r) => toChat(r, running.get(r.id) ?? null));
    });
  }

  async create(access: OrgAccess, projectRef: string, body: CreateChatBody): Promise<Chat> {
    requirePermission(access.role, "chats.write");
    const project = await this.#d.projects.get(access, projectRef);
    const [row] = await this.#d.database.tenant(access.org.schemaName, async (tx) => {
      const agent = await this.#d.agents.pick(tx, body.agentId);
      return tx
        .insert(chats)
        .values({
          id: randomUUID(),
          projectId: project.id,
          title: body.title ?? NEW_CHAT_TITLE,
          mode: body.mode ?? agent.defaultMode ?? "allow",
          model: body.model ?? null,
          agentId: agent.id,
          agentVersion: agent.version,
          createdBy: access.userId,
        })
        .returning();
    });
    return toChat(row!, null);
  }

  async get(access: OrgAccess, projectRef: string, chatId: string): Promise<ChatWithMessages> {
    requirePermission(access.role, "chats.read");
    const project = await this.#d.projects.get(access, projectRef);
    return this.#d.database.tenant(access.org.schemaName, async (tx) => {
      const chat = await findChat(tx, project.id, chatId);
      const messages = (await listMessages(tx, chat.id)).map((m) => this.#live(m));
      const running = messages.find((m) => m.status === "running")?.id ?? null;
      return { ...toChat(chat, running), messages };
    });
  }

  async update(access: OrgAccess, projectRef: string, chatId: string, body: UpdateChatBody): Promise<Chat> {
    requirePermission(access.role, "chats.write");
    const project = await this.#d.projects.get(access, projectRef);
    const chat = await this.#d.database.tenant(access.org.schemaName, async (tx) => {
      const current = await findChat(tx, project.id, chatId);
      const agent = body.agentId !== undefined ? await this.#d.agents.pick(tx, body.agentId) : undefined;
      const [row] = await tx
        .update(chats)
        .set({
          ...(agent ? { agentId: agent.id, agentVersion: agent.version } : {}),
          ...(body.title !== undefined ? { title: body.title } : {}),
          ...(body.mode !== undefined ? { mode: body.mode } : {}),
          ...(body.model !== undefined ? { model: body.model } : {}),
          ...(body.approveAll !== undefined ? { approveAll: body.approveAll } : {}),
          updatedAt: new Date(),
        })
        .where(eq(chats.id, current.id))
        .returning();
      const running = await runningMessageIds(tx, [current.id]);
      return toChat(row!, running.get(current.id) ?? null);
    });
    const run = this.#d.engine.runForChat(chat.id);
    if (run && body.approveAll !== undefined) run.approveAll = body.approveAll;
    return chat;
  }

  async delete(access: OrgAccess, projectRef: string, chatId: string): Promise<void> {
    requirePermission(access.role, "chats.write");
    const project = await this.#d.projects.get(access, projectRef);
    const id = await this.#d.database.tenant(access.org.schemaName, async (tx) => {
      return (await findChat(tx, project.id, chatId)).id;
    });
    const run = this.#d.engine.runForChat(id);
    if (run) {
      run.controller.abort();
      await run.whenFinished();
    }
    await this.#d.database.tenant(access.org.schemaName, (tx) => tx.delete(chats).where(eq(chats.id, id)));
  }

  /**
   * Refuses as a new turn would if its model cannot be had (none configured, unknown provider, bad key), so
   * a caller about to make something for that turn (a project) can fail before making it. No model is called.
   */
  async checkModel(access: OrgAccess, modelRef?: string): Promise<void> {
    requirePermission(access.role, "chats.write");
    // The ids only label calls, and this model is never called.
    const none = "00000000-0000-0000-0000-000000000000";
    await this.#d.models.languageModel(
      {
        org: access.org,
        userId: access.userId,
        projectId: none,
        chatId: none,
        messageId: none,
        source: "chat",
      },
      modelRef,
    );
  }

  /** Stores the user's message and starts the agent's answer; the run continues without the caller. */
  async send(
    access: OrgAccess,
    projectRef: string,
    chatId: string,
    body: SendMessageBody,
  ): Promise<SendMessageResponse> {
    requirePermission(access.role, "chats.write");
    const project = await this.#d.projects.get(access, projectRef);
    return this.#startTurn(access, project, chatId, {
      content: body.content,
      images: body.images,
      mode: body.mode,
      model: body.model,
    });
  }

  /** Continues an interrupted (or failed) last turn as a new assistant message. */
  async resume(
    access: OrgAccess,
    projectRef: string,
    chatId: string,
    messageId: string,
  ): Promise<SendMessageResponse> {
    requirePermission(access.role, "chats.write");
    const project = await this.#d.projects.get(access, projectRef);
    const last = await this.#d.database.tenant(access.org.schemaName, async (tx) => {
      const chat = await findChat(tx, project.id, chatId);
      const message = await findMessage(tx, chat.id, messageId);
      const messages = await listMessages(tx, chat.id);
      return { message, isLast: messages[messages.length - 1]?.id === message.id };
    });
    if (
      last.message.role !== "assistant" ||
      !["interrupted", "failed", "cancelled"].includes(last.message.status)
    ) {
      throw new ConflictError("conflict", "only an interrupted, failed or cancelled answer can be resumed");
    }
    if (!last.isLast) throw new ConflictError("conflict", "only the chat's last answer can be resumed");
    return this.#startTurn(access, project, chatId, { content: undefined });
  }

  #startTurn(
    access: OrgAccess,
    project: Project,
    chatId: string,
    turn: TurnInput,
  ): Promise<SendMessageResponse> {
    return this.#starts.run(() => this.#startTurnNow(access, project, chatId, turn));
  }

  async #startTurnNow(
    access: OrgAccess,
    project: Project,
    chatId: string,
    turn: TurnInput,
  ): Promise<SendMessageResponse> {
    const assistantId = randomUUID();
    // The run exists once the turn is stored; a retry can only happen after it started.
    let run: ChatRun | undefined;
    // The project's guide is read from its files while the database works on the rest.
    const guide = this.#d.guideFor(access, project);
    guide.catch(() => {});
    const now = Date.now();
    // One transaction from the chat's lock to the run's registration, the model resolved inside it: an
    // unconfigured model is the caller's 4xx and stores nothing. Each statement on a turn's way to its
    // first token is a round trip to the database, so nothing here is read twice.
    const created = await this.#d.database
      .tenant(access.org.schemaName, async (tx) => {
        const { chat: locked, runningMessageId } = await lockChatForTurn(tx, project.id, chatId);
        if (runningMessageId) {
          throw new ConflictError(
            "chat_busy",
            "the agent is still answering in this chat; cancel it or wait",
            { runningMessageId },
          );
        }
        const mode = turn.mode ?? (locked.mode as ApprovalMode);
        const agent = await this.#d.agents.version(tx, locked.agentId, locked.agentVersion);
        const resolved = await this.#d.models.languageModel(
          {
            org: access.org,
            userId: access.userId,
            projectId: project.id,
            chatId: locked.id,
            messageId: assistantId,
            source: "chat",
            onRetry: (notice) => run?.push({ type: "model-retry", messageId: assistantId, ...notice }),
          },
          turn.model ?? locked.model ?? agent.defaultModel ?? undefined,
          tx,
        );
        const rows: (typeof chatMessages.$inferInsert)[] = [];
        const parts: MessagePart[] = [{ type: "text", text: turn.content ?? "" }];
        // Only a message with images costs the statements that check them (and only before any call).
        if (turn.images?.length) {
          if (resolved.images === false) {
            throw new KilnError(
              "model_no_images",
              `${resolved.modelRef} reads text only; pick a model that accepts images or send the message without them`,
              { details: { model: resolved.modelRef } },
            );
          }
          parts.push(...(await imageParts(tx, locked.id, turn.images)));
        }
        if (turn.content !== undefined) {
          rows.push({
            id: randomUUID(),
            chatId: locked.id,
            role: "user",
            parts,
            status: "complete",
            createdBy: access.userId,
            createdAt: new Date(now),
            updatedAt: new Date(now),
          });
        }
        rows.push({
          id: assistantId,
          chatId: locked.id,
          role: "assistant",
          parts: [],
          status: "running",
          model: resolved.modelRef,
          agentId: agent.id,
          agentVersion: agent.version,
          createdBy: access.userId,
          createdAt: new Date(now + 1),
          updatedAt: new Date(now + 1),
        });
        const inserted = await tx.insert(chatMessages).values(rows).returning();
        const userRow = inserted.find((r) => r.role === "user");
        const assistantRow = inserted.find((r) => r.id === assistantId);
        const title =
          locked.title === NEW_CHAT_TITLE && turn.content ? titleFrom(turn.content) : locked.title;
        await tx
          .update(chats)
          .set({ title, updatedAt: new Date(now) })
          .where(eq(chats.id, locked.id));
        const history = (await listMessages(tx, locked.id)).filter((m) => m.id !== assistantId);
        const shown = imageIdsOf(history);
        const images = new Map(shown.length ? await loadImages(tx, locked.id, shown) : []);
        const run = new ChatRun({
          orgId: access.org.id,
          schemaName: access.org.schemaName,
          projectId: project.id,
          chatId: locked.id,
          messageId: assistantId,
          userId: access.userId,
          approveAll: locked.approveAll,
        });
        await this.#d.engine.register(tx, run, access.userId);
        return { userRow, assistantRow: assistantRow!, history, images, run, mode, resolved, agent };
      })
      .catch((err: unknown) => {
        // Rolled back: nothing of the turn was stored.
        this.#d.engine.abandon(assistantId);
        throw err;
      });
    const history = created.history.map((m) => ({
      role: m.role as "user" | "assistant",
      parts: m.parts as MessagePart[],
    }));
    // A resumed turn whose history ends with the agent's words needs a user turn for most providers.
    if (history[history.length - 1]?.role !== "user") {
      history.push({ role: "user", parts: [{ type: "text", text: "Continue where you stopped." }] });
    }
    run = created.run;
    const { mode, resolved, agent } = created;
    let prompt: string;
    let mcp: McpToolset | undefined;
    try {
      // Plan mode offers no mutating tool, and every MCP tool counts as one: no session to open.
      if (agent.mcpServers.length > 0 && mode !== "plan" && this.#d.mcpToolsFor)
        mcp = await this.#d.mcpToolsFor(access, project, agent.mcpServers);
      prompt = systemPrompt({ agentPrompt: agent.systemPrompt, project, guide: await guide, mode });
      if (mcp?.notes.length) prompt = `${prompt}\n\n${mcp.notes.join("\n")}`;
    } catch (err) {
      // Stored as running but never started: the sweeper marks it interrupted (resumable).
      this.#d.engine.abandon(assistantId);
      await mcp?.close();
      throw err;
    }
    this.#d.engine.start({
      run: created.run,
      model: resolved.model,
      modelRef: resolved.modelRef,
      contextWindow: resolved.contextWindow,
      system: prompt,
      history,
      images: created.images,
      tools: mcp
        ? [...this.#d.toolsFor(mode, agent.tools), ...mcp.tools]
        : this.#d.toolsFor(mode, agent.tools),
      ...(mcp ? { onEnd: mcp.close } : {}),
      agent: { id: agent.id, version: agent.version },
      ...(agent.stepLimit !== null ? { maxSteps: agent.stepLimit } : {}),
      workspace: this.#d.workspaceFor(access, project),
      mode,
      summary: turn.content ?? "Resumed turn",
    });
    return {
      userMessage: created.userRow ? toMessage(created.userRow) : null,
      assistantMessage: toMessage(created.assistantRow),
    };
  }

  /** Starts a turn that asks the agent to fix what the preview reports (in a chat given or a new one). */
  async fixErrors(access: OrgAccess, projectRef: string, body: FixErrorsBody): Promise<FixErrorsResponse> {
    requirePermission(access.role, "chats.write");
    const project = await this.#d.projects.get(access, projectRef);
    const report = await this.#d.errorsFor(access, project);
    if (!report) throw new ConflictError("no_preview_errors", "the preview reports no errors to fix");
    const chat = body.chatId
      ? await this.#d.database.tenant(access.org.schemaName, (tx) => findChat(tx, project.id, body.chatId!))
      : undefined;
    const chatId =
      chat?.id ??
      (
        await this.create(access, project.id, {
          title: "Fix preview errors",
          ...(body.mode ? { mode: body.mode } : {}),
          ...(body.model ? { model: body.model } : {}),
        })
      ).id;
    const sent = await this.#startTurn(access, project, chatId, {
      content: report,
      mode: body.mode,
      model: body.model,
    });
    const current = await this.#d.database.tenant(access.org.schemaName, (tx) =>
      findChat(tx, project.id, chatId),
    );
    return { ...sent, chat: toChat(current, sent.assistantMessage.id) };
  }

  /** Stops the chat's running turn, on whichever replica runs it; its answer is stored as cancelled. */
  async cancel(access: OrgAccess, projectRef: string, chatId: string): Promise<Chat> {
    requirePermission(access.role, "chats.write");
    const project = await this.#d.projects.get(access, projectRef);
    const { chat, messageId } = await this.#running(access, project.id, chatId);
    if (!messageId) throw new ConflictError("run_not_active", "nothing is running in this chat");
    if ((await this.#d.engine.cancel(messageId)) === "here") return toChat(chat, null);
    // Another replica runs it: done when its stored message stops running. A replica that died with it
    // leaves it to the sweeper, which marks it interrupted; the answer then still says "running".
    const end = Date.now() + REMOTE_WAIT_MS;
    let current = await this.#running(access, project.id, chatId);
    while (current.messageId === messageId && Date.now() < end) {
      await sleep(POLL_MS);
      current = await this.#running(access, project.id, chatId);
    }
    return toChat(current.chat, current.messageId ?? null);
  }

  /** Answers a tool call waiting for approval, on whichever replica runs the turn. */
  async decide(access: OrgAccess, projectRef: string, chatId: string, body: ApprovalBody): Promise<Chat> {
    requirePermission(access.role, "chats.write");
    const project = await this.#d.projects.get(access, projectRef);
    const { chat, messageId } = await this.#running(access, project.id, chatId);
    const notWaiting = () =>
      new NotFoundError("approval_not_found", "no tool call is waiting for this decision");
    if (!messageId) throw notWaiting();
    const local = this.#d.engine.runForMessage(messageId);
    // Elsewhere, the stored events say whether this call waits (the studio shows it from the same events).
    if (!local && (await this.#approvalState(access, messageId, body.toolCallId)) !== "waiting")
      throw notWaiting();
    if (local && !local.approvals.has(body.toolCallId)) throw notWaiting();
    let row = chat;
    if (body.decision === "approve-all") {
      [row] = (await this.#d.database
        .tenant(access.org.schemaName, (tx) =>
          tx
            .update(chats)
            .set({ approveAll: true, updatedAt: new Date() })
            .where(eq(chats.id, chat.id))
            .returning(),
        )
        .then((rows) => rows as (typeof chat)[])) as [typeof chat];
    }
    const outcome = this.#d.engine.decide(messageId, body.toolCallId, body.decision);
    if (outcome === "not-pending") throw notWaiting();
    if (outcome === "sent") {
      const end = Date.now() + REMOTE_WAIT_MS;
      let state = await this.#approvalState(access, messageId, body.toolCallId);
      while (state === "waiting" && Date.now() < end) {
        await sleep(POLL_MS);
        state = await this.#approvalState(access, messageId, body.toolCallId);
      }
      if (state !== "resolved") throw notWaiting();
    }
    return toChat(row, messageId);
  }

  async #running(
    access: OrgAccess,
    projectId: string,
    chatId: string,
  ): Promise<{ chat: ChatRow; messageId: string | undefined }> {
    return this.#d.database.tenant(access.org.schemaName, async (tx) => {
      const chat = await findChat(tx, projectId, chatId);
      return { chat, messageId: (await runningMessageIds(tx, [chat.id])).get(chat.id) };
    });
  }

  /** Whether the stored events of a turn show the call waiting for a decision, decided, or never asked. */
  async #approvalState(
    access: OrgAccess,
    messageId: string,
    toolCallId: string,
  ): Promise<"waiting" | "resolved" | "unknown"> {
    const events = await this.#d.database.tenant(access.org.schemaName, (tx) =>
      eventsAfter(tx, messageId, 0),
    );
    let state: "waiting" | "resolved" | "unknown" = "unknown";
    for (const { event } of events) {
      if (event.type === "approval-request" && event.toolCallId === toolCallId) state = "waiting";
      if (event.type === "approval-resolved" && event.toolCallId === toolCallId) state = "resolved";
    }
    return state;
  }

  /**
   * A turn's events after `after`, as far as they go now: the stored ones (a page, up to `message-end`),
   * and, while the turn runs on this server, what it holds in memory and has not stored yet.
   */
  async events(
    access: OrgAccess,
    projectRef: string,
    chatId: string,
    messageId: string,
    after: number,
  ): Promise<RunEvent[]> {
    const message = await this.#message(access, projectRef, chatId, messageId);
    if (message.role !== "assistant") return [];
    const stored = await this.#d.database.tenant(access.org.schemaName, (tx) =>
      eventsAfter(tx, message.id, after),
    );
    const run = this.#d.engine.runForMessage(message.id);
    const held = run && !run.finished ? run.since(after) : [];
    const out: RunEvent[] = [];
    for (const e of [...stored, ...held].sort((a, b) => a.seq - b.seq)) {
      if (e.seq <= (out[out.length - 1]?.seq ?? after)) continue;
      out.push(e);
      if (e.event.type === "message-end") break;
    }
    return out;
  }

  /**
   * Checks that the turn exists and is the caller's to read (a 404 otherwise), then returns how to follow
   * it: a stream asks first, so a foreign or missing id is refused before any byte of the stream is sent.
   * The follow replays the events after `after` and, while the turn runs, streams them live — from memory
   * when the run is on this server, else from the stored events (another replica runs it) — until
   * `message-end` or until `signal` aborts.
   */
  async watch(
    access: OrgAccess,
    projectRef: string,
    chatId: string,
    messageId: string,
  ): Promise<(after: number, emit: (event: RunEvent) => void, signal: AbortSignal) => Promise<void>> {
    const message = await this.#message(access, projectRef, chatId, messageId);
    if (message.role !== "assistant") return async () => {};
    return this.followStarted(access, message.id);
  }

  /**
   * How to follow a turn the caller has just started (`send`, `resume`): it is theirs and exists, so none
   * of `watch`'s lookups stand between the model's first token and the client.
   */
  followStarted(
    access: OrgAccess,
    messageId: string,
  ): (after: number, emit: (event: RunEvent) => void, signal: AbortSignal) => Promise<void> {
    const { schemaName } = access.org;
    const message = { id: messageId };
    return async (after, emit, signal) => {
      const run = this.#d.engine.runForMessage(message.id);
      if (run && !run.finished) return this.#followRun(schemaName, message.id, run, after, emit, signal);
      // Stored run (finished, or running on another replica): every follower shares one poller.
      await this.#feeds.follow(
        `${schemaName}/${message.id}`,
        {
          read: (from) => this.#d.database.tenant(schemaName, (tx) => eventsAfter(tx, message.id, from)),
          status: () =>
            this.#d.database.tenant(schemaName, async (tx) => {
              const [row] = await tx
                .select({ status: chatMessages.status })
                .from(chatMessages)
                .where(eq(chatMessages.id, message.id));
              if (!row) return null;
              return { last: await lastEventSeq(tx, message.id), over: row.status !== "running" };
            }),
        },
        after,
        (e) => {
          emit(e);
          return e.event.type === "message-end";
        },
        signal,
      );
    };
  }

  /** A message of a chat of the project, for a caller who may read chats (404 for a foreign or missing one). */
  async #message(
    access: OrgAccess,
    projectRef: string,
    chatId: string,
    messageId: string,
  ): Promise<MessageRow> {
    requirePermission(access.role, "chats.read");
    const project = await this.#d.projects.get(access, projectRef);
    return this.#d.database.tenant(access.org.schemaName, async (tx) => {
      const chat = await findChat(tx, project.id, chatId);
      return findMessage(tx, chat.id, messageId);
    });
  }

  /** Follows a run on this server from memory, after replaying what was stored before `after`. */
  async #followRun(
    schemaName: string,
    messageId: string,
    run: ChatRun,
    after: number,
    emit: (event: RunEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    let sent = after;
    const send = (e: RunEvent) => {
      if (e.seq <= sent) return false;
      sent = e.seq;
      emit(e);
      return e.event.type === "message-end";
    };
    const buffered: RunEvent[] = [];
    let live = false;
    let ended = false;
    let wake: () => void = () => {};
    const off = run.subscribe((e) => {
      if (!live) buffered.push(e);
      else if (send(e)) {
        ended = true;
        wake();
      }
    });
    try {
      // A run on this server holds every event it numbered: the database is asked only for older ones, so a
      // follower keeps streaming while the database is away.
      const stored =
        after + 1 >= run.firstHeldSeq
          ? []
          : await this.#d.database.tenant(schemaName, (tx) => eventsAfter(tx, messageId, after));
      for (const e of [...stored, ...run.since(after)].sort((a, b) => a.seq - b.seq))
        if (send(e)) ended = true;
      for (const e of buffered) if (send(e)) ended = true;
      live = true;
      if (!ended && !run.finished) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          if (signal.aborted) return resolve();
          signal.addEventListener("abort", () => resolve(), { once: true });
          void run.whenFinished().then(resolve);
        });
      }
    } finally {
      off();
    }
    // Anything that landed between the last live event and the end.
    for (const e of run.since(sent)) send(e);
  }

  /** The highest stored event number of a message (tests and diagnostics). */
  async lastSeq(access: OrgAccess, messageId: string): Promise<number> {
    return this.#d.database.tenant(access.org.schemaName, (tx) => lastEventSeq(tx, messageId));
  }

  /** A running message read from the DB may be behind its live run here: show the live parts. */
  #live(row: MessageRow): ChatMessage {
    const message = toMessage(row);
    const run = this.#d.engine.runForMessage(row.id);
    return run && !run.finished ? { ...message, parts: run.parts } : message;
  }
}

function titleFrom(content: string): string {
  const line = content.trim().split("\n")[0]!.replace(/\s+/g, " ");
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}
