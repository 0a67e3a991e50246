import type { CreateMcpServerBody } from "@kiln/protocol";

/** The add form's state: the command as typed (split on spaces), headers or env as `NAME=value` lines. */
export interface McpServerDraft {
  name: string;
  transport: "http" | "stdio";
  url: string;
  command: string;
  secrets: string;
}

export const EMPTY_MCP_DRAFT: McpServerDraft = {
  name: "",
  transport: "http",
  url: "",
  command: "",
  secrets: "",
};

/** `NAME=value` lines (http: `Header: value` too) as a map; blank lines skipped. */
export function secretLines(text: string, transport: "http" | "stdio"): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    // A header name has neither ":" nor "=", so the first of them ends it; an env name ends at "=".
    const seps = (transport === "http" ? [":", "="] : ["="]).map((c) => line.indexOf(c)).filter((i) => i > 0);
    const at = seps.length ? Math.min(...seps) : -1;
    if (at <= 0) {
      out[line] = "";
      continue;
    }
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/** The body an add sends; the server checks every field (and says which one is wrong). */
export function mcpBodyOf(d: McpServerDraft): CreateMcpServerBody {
  const secrets = secretLines(d.secrets, d.transport);
  return d.transport === "http"
    ? { name: d.name.trim(), transport: "http", url: d.url.trim(), headers: secrets }
    : {
        name: d.name.trim(),
        transport: "stdio",
        command: d.command.trim().split(/\s+/).filter(Boolean),
        env: secrets,
      };
}
