import type { AddressPolicy, ToolDefinition, ToolResult } from "@kiln/agent";
import { createEgressFetch } from "@kiln/agent";
import type { Project } from "@kiln/protocol";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { FastifyBaseLogger } from "fastify";
import { z } from "zod";
import type { Database } from "../db/client.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { SandboxDriver, SandboxSpec } from "../sandbox/driver.ts";
import { VERSION } from "../version.ts";
import { SandboxStdioTransport } from "./sandbox-transport.ts";
import type { McpServerService } from "./service.ts";
import { findMcpServers, type McpServerRow } from "./store.ts";

/** Connecting and listing a server's tools, at the start of a turn. */
export const MCP_CONNECT_TIMEOUT_MS = 15_000;
/** One tool call (the loop's own limit for a tool). */
export const MCP_CALL_TIMEOUT_MS = 60_000;
/** Tools taken from one server; the rest are left out (and the model told so). */
export const MCP_TOOLS_PER_SERVER = 64;
const DESCRIPTION_MAX = 2_000;
const NAME_MAX = 64;

/** A turn's MCP tools: offered next to Kiln's; `close` ends every session (at the end of the turn). */
export interface McpToolset {
  tools: ToolDefinition[];
  /** Servers that could not be reached, for the system prompt (the turn runs without them). */
  notes: string[];
  close(): Promise<void>;
}

export interface McpClientsDeps {
  database: Database;
  servers: Pick<McpServerService, "secretsOf">;
  egress: AddressPolicy;
  /** The project's sandbox and the driver its commands run with (the agent's own, limits included). */
  sandboxFor(access: OrgAccess, project: Project): Promise<{ driver: SandboxDriver; spec: SandboxSpec }>;
  log: FastifyBaseLogger;
  connectTimeoutMs?: number;
}

const AnyArguments = z.record(z.string(), z.unknown());

/**
 * Connects a turn to its agent's MCP servers (ADR 0039): http ones through the egress fetch (every connection
 * held to the address policy), stdio ones as a process in the project's sandbox. Each server's tools become
 * `mcp__<server>__<tool>` tools that mutate (so "ask" asks and "plan" refuses): Kiln cannot know what a
 * foreign tool does. A server that fails to connect is left out with a note; one that fails during a call
 * gives that call an error result.
 */
export class McpClients {
  readonly #d: McpClientsDeps;
  readonly #fetch: typeof fetch;

  constructor(deps: McpClientsDeps) {
    this.#d = deps;
    this.#fetch = createEgressFetch(deps.egress);
  }

  async toolsFor(access: OrgAccess, project: Project, serverIds: readonly string[]): Promise<McpToolset> {
    const rows = await this.#d.database.tenant(access.org.schemaName, (tx) => findMcpServers(tx, serverIds));
    const sessions = await Promise.all(rows.map((row) => this.#open(access, project, row)));
    const tools: ToolDefinition[] = [];
    const notes: string[] = [];
    const names = new Set<string>();
    for (const s of sessions) {
      if ("error" in s) {
        notes.push(
          `The MCP server "${s.row.name}" is unavailable this turn (${s.error}); its tools are not offered.`,
        );
        continue;
      }
      for (const tool of s.listed.slice(0, MCP_TOOLS_PER_SERVER)) {
        const name = toolName(s.row.name, tool.name);
        if (names.has(name)) continue;
        names.add(name);
        tools.push(this.#tool(s.row, s.client, name, tool));
      }
      if (s.listed.length > MCP_TOOLS_PER_SERVER)
        notes.push(`The MCP server "${s.row.name}" has more tools than the ${MCP_TOOLS_PER_SERVER} offered.`);
    }
    return {
      tools,
      notes,
      close: async () => {
        await Promise.all(
          sessions.map((s) => ("client" in s ? s.client.close().catch(() => {}) : undefined)),
        );
      },
    };
  }

  async #open(
    access: OrgAccess,
    project: Project,
    row: McpServerRow,
  ): Promise<
    { row: McpServerRow; client: Client; listed: ListedTool[] } | { row: McpServerRow; error: string }
  > {
    const client = new Client({ name: "kiln", version: VERSION });
    let transport: Transport | undefined;
    const timeout = this.#d.connectTimeoutMs ?? MCP_CONNECT_TIMEOUT_MS;
    try {
      const secrets = this.#d.servers.secretsOf(access.org.id, row);
      transport = await this.#transport(access, project, row, secrets);
      await client.connect(transport, { timeout });
      const { tools } = await client.listTools(undefined, { timeout });
      return { row, client, listed: tools };
    } catch (err) {
      await client.close().catch(() => {});
      const stderr = transport instanceof SandboxStdioTransport ? transport.stderrTail : "";
      this.#d.log.warn({ err, mcpServerId: row.id, orgId: access.org.id }, "MCP server unavailable");
      return { row, error: describe(err, stderr) };
    }
  }

  async #transport(
    access: OrgAccess,
    project: Project,
    row: McpServerRow,
    secrets: Record<string, string>,
  ): Promise<Transport> {
    if (row.transport === "http") {
      return new StreamableHTTPClientTransport(new URL(row.url ?? ""), {
        fetch: this.#fetch,
        requestInit: { headers: secrets, redirect: "error" },
      });
    }
    const { driver, spec } = await this.#d.sandboxFor(access, project);
    return new SandboxStdioTransport(() =>
      driver.spawn(spec, {
        argv: row.command ?? [],
        cwd: "/workspace",
        env: secrets,
        openStdin: true,
        noPorts: true,
      }),
    );
  }

  #tool(row: McpServerRow, client: Client, name: string, tool: ListedTool): ToolDefinition {
    return {
      name,
      description: `(MCP server "${row.name}") ${tool.description ?? tool.name}`.slice(0, DESCRIPTION_MAX),
      input: AnyArguments,
      jsonSchema: Object.freeze({ ...tool.inputSchema, type: "object" }),
      mutates: true,
      timeoutMs: MCP_CALL_TIMEOUT_MS,
      execute: async (input, ctx): Promise<ToolResult> => {
        try {
          const result = await client.callTool(
            { name: tool.name, arguments: input as Record<string, unknown> },
            undefined,
            {
              signal: ctx.signal,
              timeout: MCP_CALL_TIMEOUT_MS,
            },
          );
          return { output: resultText(result), isError: result.isError === true };
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          return { output: `The MCP server "${row.name}" failed: ${describe(err, "")}`, isError: true };
        }
      },
    };
  }
}

type ListedTool = Awaited<ReturnType<Client["listTools"]>>["tools"][number];

/** `mcp__<server>__<tool>`, in the characters every provider accepts, at most 64 long. */
export function toolName(server: string, tool: string): string {
  return `mcp__${server}__${tool.replace(/[^A-Za-z0-9_-]/g, "_")}`.slice(0, NAME_MAX);
}

/** A call's result as text for the model: text as is, anything else named. */
function resultText(result: Awaited<ReturnType<Client["callTool"]>>): string {
  const content = Array.isArray(result.content) ? result.content : [];
  const parts = content.map((c: Record<string, unknown>) => {
    if (c.type === "text" && typeof c.text === "string") return c.text;
    if (c.type === "resource" && c.resource && typeof c.resource === "object") {
      const r = c.resource as { uri?: string; text?: string };
      return r.text ?? `[resource ${r.uri ?? ""}]`;
    }
    if (c.type === "resource_link") return `[resource ${String(c.uri ?? "")}]`;
    return `[${String(c.type)}${typeof c.mimeType === "string" ? ` ${c.mimeType}` : ""}]`;
  });
  if (parts.length === 0 && result.structuredContent) return JSON.stringify(result.structuredContent);
  return parts.join("\n") || "(no output)";
}

function describe(err: unknown, stderr: string): string {
  const message = err instanceof Error ? err.message : String(err);
  return stderr ? `${message}; its stderr ended: ${stderr.slice(-500)}` : message;
}
