/**
 * The prompt-first start: "what do you want to build?" → a project named after the answer, from the template
 * the answer suggests, with its dev server starting and the answer sent to the agent as the first message.
 * One call, so the studio cannot be left with a project whose first message never went out.
 */
import {
  DEFAULT_TEMPLATE,
  type SendMessageResponse,
  type StartedProject,
  type StartProjectBody,
} from "@kiln/protocol";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ChatService } from "./service.ts";

/**
 * The template a prompt asks for, by its words: a server or an API → node-api; a static or plain HTML page →
 * static; anything else (and anything naming React) → the default. Only templates this server has count.
 */
export function pickTemplate(prompt: string, available: readonly string[]): string {
  const text = prompt.toLowerCase();
  const has = (name: string) => available.includes(name);
  if (/\breact\b/.test(text) && has(DEFAULT_TEMPLATE)) return DEFAULT_TEMPLATE;
  if (/\b(api|apis|rest|server|backend|back-end|endpoints?|webhooks?)\b/.test(text) && has("node-api"))
    return "node-api";
  if (/\b(static|html|plain page|no build)\b/.test(text) && has("static")) return "static";
  return has(DEFAULT_TEMPLATE) ? DEFAULT_TEMPLATE : (available[0] ?? DEFAULT_TEMPLATE);
}

/** Words a request starts with that say nothing about the thing asked for. */
const LEAD =
  /^(?:(?:please|can you|could you|i want|i'd like|i would like|let's|lets|help me|build|make|create|write|generate|me|us|a|an|the|simple|small|little|basic|quick)\s+)+/i;
/** Where a name ends and the details begin. */
const DETAILS = /\s+(?:with|that|which|where|using|including|featuring)\s+|[,.;:!?()\n]/i;
const MAX_WORDS = 5;

/** A short title for the project from its prompt: "a habit tracker with a streak counter" → "Habit tracker". */
export function projectNameFrom(prompt: string): string {
  const first = prompt.trim().split(DETAILS)[0] ?? "";
  const words = `${first.replace(/\p{Cc}/gu, " ").trim()} `
    .replace(LEAD, "")
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, MAX_WORDS);
  const name = words.join(" ").slice(0, 60).trim();
  if (!/[\p{L}\p{N}]/u.test(name)) return "New project";
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export interface ProjectStarterDeps {
  projects: ProjectService;
  chats: ChatService;
  /** The templates this server has. */
  templates: () => readonly string[];
}

export class ProjectStarter {
  readonly #d: ProjectStarterDeps;

  constructor(deps: ProjectStarterDeps) {
    this.#d = deps;
  }

  /**
   * Makes the project and sends the prompt, or makes nothing: the model is checked before the project is
   * made, and a first turn refused after it (a turn limit) takes the project back.
   */
  async start(access: OrgAccess, body: StartProjectBody): Promise<StartedProject> {
    requirePermission(access.role, "projects.write");
    requirePermission(access.role, "chats.write");
    await this.#d.chats.checkModel(access, body.model);
    const project = await this.#d.projects.create(access, {
      name: projectNameFrom(body.prompt),
      description: body.prompt.trim().slice(0, 2000),
      template: body.template ?? pickTemplate(body.prompt, this.#d.templates()),
      startDevServer: true,
    });
    let started: { chatId: string; sent: SendMessageResponse };
    try {
      const chat = await this.#d.chats.create(access, project.id, {
        ...(body.mode ? { mode: body.mode } : {}),
        ...(body.model ? { model: body.model } : {}),
      });
      const sent = await this.#d.chats.send(access, project.id, chat.id, { content: body.prompt });
      started = { chatId: chat.id, sent };
    } catch (err) {
      await this.#d.projects.discard(access, project.id);
      throw err;
    }
    // Read back after the turn started: the chat is titled after the prompt and shows its running answer.
    const { messages: _, ...chat } = await this.#d.chats.get(access, project.id, started.chatId);
    return { ...started.sent, chat, project };
  }
}
