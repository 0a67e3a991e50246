import http from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

/** A real MCP server of the SDK on a local port (stateless streamable HTTP), for tests. */
export async function startHttpMcpServer(): Promise<{
  url: string;
  port: number;
  /** Authorization headers the server saw, one per request. */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}> {
  const authorizations: (string | undefined)[] = [];
  const server = http.createServer(async (req, res) => {
    if (req.url !== "/mcp") {
      res.writeHead(404).end();
      return;
    }
    authorizations.push(req.headers.authorization);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
    const mcp = new McpServer({ name: "test-tools", version: "1.0.0" });
    mcp.registerTool(
      "shout",
      { description: "Upper-cases a text", inputSchema: { text: z.string().describe("What to shout") } },
      async ({ text }) => ({ content: [{ type: "text", text: `${text.toUpperCase()}!` }] }),
    );
    mcp.registerTool("fail", { description: "Always fails" }, async () => ({
      content: [{ type: "text", text: "the fail tool failed, as it does" }],
      isError: true,
    }));
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on("close", () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    port,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A tiny stdio MCP server (newline-delimited JSON-RPC, no dependencies) for a project's workspace: `whoami`
 * says the uid it runs as and writes a file next to it, `crash` exits mid-call.
 */
export const STDIO_SERVER_SCRIPT = `
const fs = require("node:fs");
const send = (m) => process.stdout.write(JSON.stringify(m) + "\\n");
let buf = "";
process.stdin.on("data", (chunk) => {
  buf += chunk;
  let i;
  while ((i = buf.indexOf("\\n")) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (!line.trim()) continue;
    const msg = JSON.parse(line);
    if (msg.id === undefined) continue;
    if (msg.method === "initialize") {
      send({ jsonrpc: "2.0", id: msg.id, result: {
        protocolVersion: msg.params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: "workspace-tools", version: "1.0.0" } } });
    } else if (msg.method === "tools/list") {
      send({ jsonrpc: "2.0", id: msg.id, result: { tools: [
        { name: "whoami", description: "Says who runs it", inputSchema: { type: "object", properties: {} } },
        { name: "crash", description: "Exits", inputSchema: { type: "object", properties: {} } },
      ] } });
    } else if (msg.method === "tools/call" && msg.params.name === "whoami") {
      fs.writeFileSync("made-by-mcp.txt", "uid=" + process.getuid() + "\\n");
      send({ jsonrpc: "2.0", id: msg.id, result: { content: [
        { type: "text", text: "uid=" + process.getuid() + " cwd=" + process.cwd() } ] } });
    } else if (msg.method === "tools/call" && msg.params.name === "crash") {
      process.stderr.write("crashing on purpose\\n");
      process.exit(3);
    } else {
      send({ jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "no such method" } });
    }
  }
});
`;
