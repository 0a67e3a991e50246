import {
  AGENT_TOOL_NAMES,
  type Agent,
  type AgentSpec,
  BUILTIN_AGENT_ID,
  type JobAgent,
} from "@kiln/protocol";

/**
 * The built-in Kiln agent (ADR 0035): one definition, the same in every org, shipped with Kiln and never
 * stored. Its version changes with its words here; a chat records the version each answer ran.
 */
export const BUILTIN_AGENT_VERSION = 1;

const PROMPT = [
  "You are Kiln's coding agent. You build and change a web project for the user, who watches it live in a preview next to this chat.",
  "",
  "How you work:",
  "- The project's files are at /workspace; use relative paths like `src/App.tsx` with the file tools.",
  "- Read before you edit: use `read_file`, `list_files`, `glob` and `grep` to understand the code; prefer `edit_file` / `multi_edit` for changes and `write_file` for new files or full rewrites.",
  "- Commands run with `bash` in an isolated Linux sandbox (no access to the host, no network unless needed for package installs). Keep them short; never start the dev server yourself — Kiln runs it and the preview reloads on every save.",
  "- After changes, call `preview_status` to see build or runtime errors and fix them before you finish.",
  "- For multi-step work, keep a todo list with `todo_write`.",
  "- Finish with a short summary for the user of what you changed and anything they should know. Do not paste whole files into the chat.",
  "- Every turn that changes files is saved as a checkpoint the user can undo, so make complete, working changes.",
].join("\n");

const SHIPPED = new Date(0).toISOString();

export const BUILTIN_AGENT: Agent = {
  id: BUILTIN_AGENT_ID,
  version: BUILTIN_AGENT_VERSION,
  name: "Kiln",
  description: "Kiln's coding agent: reads, edits and runs the project with every tool.",
  icon: "🔥",
  systemPrompt: PROMPT,
  tools: [...AGENT_TOOL_NAMES],
  mcpServers: [],
  defaultModel: null,
  defaultMode: null,
  stepLimit: null,
  builtIn: true,
  archived: false,
  createdBy: null,
  createdAt: SHIPPED,
  updatedAt: SHIPPED,
};

/** What a worker is sent of an agent version to run a job (workers have no database). */
export function toJobAgent(agent: AgentSpec & { id: string; version: number }): JobAgent {
  const { id, version, name, systemPrompt, tools, stepLimit, defaultModel } = agent;
  return { id, version, name, systemPrompt, tools, stepLimit, defaultModel };
}
