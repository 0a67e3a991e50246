import { z } from "zod";
import { Id, Text, Timestamp } from "./common.ts";

/**
 * MCP servers (ADR 0039): an org's extra tools for its agents. An agent version names the servers it may use;
 * their tools reach the model as `mcp__<server>__<tool>`. `http` servers are called by the server through the
 * egress address policy; `stdio` servers run inside the project's sandbox, as the project's user.
 */

export const MCP_SERVERS_MAX = 20;
export const MCP_SERVERS_PER_AGENT_MAX = 10;
/** Headers (http) or environment variables (stdio) of one server; sealed at rest, never returned. */
export const MCP_SECRETS_MAX = 20;

/** Lowercase, digits and `_`: it is part of every tool name the model sees. */
export const McpServerName = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,23}$/, "lowercase letters, digits and _; starts with a letter; at most 24")
  .refine((s) => !s.includes("__"), "no double underscore (it separates the server from the tool)")
  .describe("Part of its tools' names: mcp__<name>__<tool>");

const HeaderName = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, "an HTTP header name");
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "an environment variable name");
const SecretValue = Text(4096).refine((s) => !/[\r\n]/.test(s), "one line");

const mapOf = (key: z.ZodString) =>
  z
    .record(key, SecretValue)
    .refine((m) => Object.keys(m).length <= MCP_SECRETS_MAX, `at most ${MCP_SECRETS_MAX}`);

export const McpHttpConfig = z.strictObject({
  transport: z.literal("http"),
  url: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .describe("The streamable HTTP endpoint; held to the server's egress address policy"),
  headers: mapOf(HeaderName)
    .optional()
    .describe(
      "Sent with every request (e.g. Authorization); sealed, never returned; omitted on update: kept",
    ),
});

export const McpStdioConfig = z.strictObject({
  transport: z.literal("stdio"),
  command: z
    .array(Text(1024).refine((s) => s.length > 0, "not empty"))
    .min(1)
    .max(64)
    .describe("argv run inside the project's sandbox, in /workspace, as the project's user"),
  env: mapOf(EnvName)
    .optional()
    .describe("Extra environment variables; sealed, never returned; omitted on update: kept"),
});

export const CreateMcpServerBody = z
  .discriminatedUnion("transport", [
    McpHttpConfig.extend({ name: McpServerName }),
    McpStdioConfig.extend({ name: McpServerName }),
  ])
  .meta({ id: "McpServerBody" });
export type CreateMcpServerBody = z.input<typeof CreateMcpServerBody>;
export const UpdateMcpServerBody = CreateMcpServerBody;
export type UpdateMcpServerBody = z.input<typeof UpdateMcpServerBody>;

export const McpServer = z
  .object({
    id: Id,
    name: McpServerName,
    transport: z.enum(["http", "stdio"]),
    url: z.string().nullable(),
    command: z.array(z.string()).nullable(),
    secretNames: z
      .array(z.string())
      .describe("The header or environment variable names set; never their values"),
    createdBy: Id.nullable(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "McpServer" });
export type McpServer = z.infer<typeof McpServer>;
