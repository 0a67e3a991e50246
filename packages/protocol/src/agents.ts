import { z } from "zod";
import { ApprovalMode } from "./agent.ts";
import { ModelRef } from "./chats.ts";
import { Id, Name, Text, Timestamp } from "./common.ts";
import { MCP_SERVERS_PER_AGENT_MAX } from "./mcp-servers.ts";

/**
 * Agent definitions (ADR 0035): what a chat's agent is told (system prompt), may use (tools), runs on by
 * default (model, approval mode) and how many model calls a turn may take. Stored per org, versioned: an edit
 * is a new version, and a chat's turns record the version they ran.
 */

/** Every tool an agent may be allowed, by the name the model sees (the agent package's tools; a test keeps them equal). */
export const AGENT_TOOL_NAMES = [
  "read_file",
  "write_file",
  "edit_file",
  "multi_edit",
  "list_files",
  "glob",
  "grep",
  "bash",
  "shell_open",
  "shell_run",
  "shell_close",
  "web_fetch",
  "todo_write",
  "todo_read",
  "project_info",
  "preview_status",
] as const;
export const AgentToolName = z.enum(AGENT_TOOL_NAMES);
export type AgentToolName = z.infer<typeof AgentToolName>;

export const AGENT_PROMPT_MAX = 20_000;
export const AGENT_DESCRIPTION_MAX = 500;
export const AGENT_STEP_LIMIT_MAX = 500;

/** The built-in "Kiln" agent's id: the same in every org, never stored, never editable (ADR 0035). */
export const BUILTIN_AGENT_ID = "00000000-0000-4000-8000-00000000a9e7";

/** A short emoji or icon key. */
export const AgentIcon = z
  .string()
  .trim()
  .min(1)
  .max(32)
  .regex(/^[^\p{Cc}\s]+$/u, "an emoji or an icon key, without spaces or control characters");

/** What one version of an agent says; the fields a create or an update sends. */
export const AgentSpec = z.strictObject({
  name: Name,
  description: Text(AGENT_DESCRIPTION_MAX).default(""),
  icon: AgentIcon.default("🤖"),
  systemPrompt: Text(AGENT_PROMPT_MAX)
    .refine((s) => s.trim().length > 0, "must not be empty")
    .describe("What the agent is told before every turn; the project's guide (KILN.md) is appended"),
  tools: z
    .array(AgentToolName)
    .max(AGENT_TOOL_NAMES.length)
    .refine((t) => new Set(t).size === t.length, "each tool once")
    .describe("The tools the agent is offered and may call; plan mode leaves out the mutating ones"),
  mcpServers: z
    .array(Id)
    .max(MCP_SERVERS_PER_AGENT_MAX)
    .refine((t) => new Set(t).size === t.length, "each server once")
    .default([])
    .describe("The org's MCP servers (ADR 0039) whose tools the agent is offered, as mcp__<server>__<tool>"),
  defaultModel: ModelRef.nullable().default(null).describe("For chats that pick no model"),
  defaultMode: ApprovalMode.nullable().default(null).describe("For chats created without a mode"),
  stepLimit: z
    .number()
    .int()
    .min(1)
    .max(AGENT_STEP_LIMIT_MAX)
    .nullable()
    .default(null)
    .describe("Model calls per turn; never above the server's own limit"),
});
export type AgentSpec = z.infer<typeof AgentSpec>;

export const CreateAgentBody = AgentSpec;
export type CreateAgentBody = z.input<typeof CreateAgentBody>;
export const UpdateAgentBody = AgentSpec;
export type UpdateAgentBody = z.input<typeof UpdateAgentBody>;

export const AgentVersion = AgentSpec.extend({
  version: z.number().int().positive(),
  createdBy: Id.nullable(),
  createdAt: Timestamp,
}).meta({ id: "AgentVersion" });
export type AgentVersion = z.infer<typeof AgentVersion>;

export const Agent = AgentVersion.extend({
  id: Id,
  builtIn: z.boolean().describe("Kiln's own agent: read-only; create a copy to change it"),
  archived: z.boolean(),
  updatedAt: Timestamp,
}).meta({ id: "Agent" });
export type Agent = z.infer<typeof Agent>;

export const AgentWithVersions = Agent.extend({
  versions: z.array(AgentVersion).describe("Newest first"),
}).meta({ id: "AgentWithVersions" });
export type AgentWithVersions = z.infer<typeof AgentWithVersions>;
