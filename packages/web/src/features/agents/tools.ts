import type { AgentSpec, AgentToolName, ApprovalMode } from "@kiln/protocol";

/** What each tool an agent may be allowed does, in a few words (the settings' checklist). */
export const TOOL_DESCRIPTIONS: Record<AgentToolName, string> = {
  read_file: "Read a file",
  write_file: "Create or overwrite a file",
  edit_file: "Replace text in a file",
  multi_edit: "Several replacements in one file",
  list_files: "List a folder",
  glob: "Find files by name pattern",
  grep: "Search file contents",
  bash: "Run a shell command",
  shell_open: "Open a long-lived shell",
  shell_run: "Run a command in an open shell",
  shell_close: "Close an open shell",
  web_fetch: "Fetch a web page",
  todo_write: "Keep a to-do list",
  todo_read: "Read the to-do list",
  project_info: "The project's stack and commands",
  preview_status: "The preview's state and errors",
};

export const MODE_LABELS: Record<ApprovalMode, string> = {
  allow: "Allow (tools run at once)",
  ask: "Ask (changes wait for approval)",
  plan: "Plan (reads only)",
};

/** The form's state: a spec with the step limit as typed. */
export interface AgentDraft {
  name: string;
  description: string;
  icon: string;
  systemPrompt: string;
  tools: AgentToolName[];
  /** The org's MCP servers the agent uses (kept through an edit even where the form shows none). */
  mcpServers: string[];
  defaultModel: string;
  defaultMode: ApprovalMode | "";
  stepLimit: string;
}

export const EMPTY_DRAFT: AgentDraft = {
  name: "",
  description: "",
  icon: "🤖",
  systemPrompt: "",
  tools: [],
  mcpServers: [],
  defaultModel: "",
  defaultMode: "",
  stepLimit: "",
};

/** A stored spec as the form's state; `copy` names it as a copy (duplicating the built-in). */
export function draftOf(spec: AgentSpec, copy = false): AgentDraft {
  return {
    name: copy ? `${spec.name} (copy)`.slice(0, 100) : spec.name,
    description: spec.description,
    icon: spec.icon,
    systemPrompt: spec.systemPrompt,
    tools: [...spec.tools],
    mcpServers: [...spec.mcpServers],
    defaultModel: spec.defaultModel ?? "",
    defaultMode: spec.defaultMode ?? "",
    stepLimit: spec.stepLimit === null ? "" : String(spec.stepLimit),
  };
}

/** The body a create or an update sends (the number field keeps the step limit a whole number in range). */
export function bodyOf(d: AgentDraft) {
  const steps = d.stepLimit.trim();
  return {
    name: d.name,
    description: d.description,
    icon: d.icon,
    systemPrompt: d.systemPrompt,
    tools: d.tools,
    mcpServers: d.mcpServers,
    defaultModel: d.defaultModel || null,
    defaultMode: d.defaultMode || null,
    stepLimit: steps === "" ? null : Number(steps),
  };
}
