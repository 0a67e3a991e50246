import { routes } from "@kiln/protocol";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { KilnError } from "../errors/errors.ts";
import { principalOf } from "../http/principal.ts";
import type { OrgRouter } from "../orgs/router.ts";
import { buildMcpServer, type McpDeps } from "./server.ts";

const notOffered = (what: string) =>
  new KilnError("method_not_allowed", `${what}: this MCP endpoint is stateless, POST a JSON-RPC message`, {
    headers: { allow: "POST" },
  });

/** Programs only: a Bearer token (kiln_pat_…), never a browser's cookies, so no page can drive it for a visitor. */
const config = { auth: "required", tokenOnly: true };

/**
 * `/mcp` (ADR 0038): Kiln's MCP endpoint, stateless Streamable HTTP. Each POST builds an MCP server bound to
 * the caller the token named and hands the parsed body to the SDK's transport, which answers it as JSON.
 */
export function mcpRoutes(router: OrgRouter, deps: McpDeps & { bodyLimitBytes: number }): void {
  const c = routes.mcp;
  router.handle(
    c.post,
    async (request, reply) => {
      const principal = principalOf(request);
      const server = buildMcpServer(principal, deps, request.log);
      // No sessions: every request stands alone, so any Kiln process can answer any of them.
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      // The SDK writes the answer itself; the headers every response carries go with it.
      for (const [name, value] of Object.entries(reply.getHeaders())) {
        if (value !== undefined) reply.raw.setHeader(name, value);
      }
      reply.hijack();
      reply.raw.on("close", () => {
        void transport.close();
        void server.close();
      });
      try {
        await server.connect(transport);
        await transport.handleRequest(request.raw, reply.raw, request.body);
      } catch (err) {
        request.log.error({ err }, "MCP request failed");
        if (!reply.raw.headersSent) {
          reply.raw.writeHead(500, { "content-type": "application/json; charset=utf-8" });
          reply.raw.end(JSON.stringify({ error: { code: "internal_error", message: "internal error" } }));
        }
      }
      return reply;
    },
    {
      config,
      bodyLimit: deps.bodyLimitBytes,
      security: [{ bearer: [] }],
      // Refused before the transport, so the answer is Kiln's error envelope.
      preHandler: async (request) => {
        // A job token (kiln_job_…) passes the hook on token-only routes but is nobody's: 401 here.
        principalOf(request);
        // The spec has clients accept both JSON and a stream; the answer is always JSON here, so a client that
        // takes JSON (or says nothing) is answered, and one that cannot read JSON is refused.
        const accept = String(request.headers.accept ?? "*/*");
        if (!/application\/json|\*\/\*|application\/\*/.test(accept)) {
          throw new KilnError("not_acceptable", "the MCP endpoint answers application/json");
        }
        request.raw.headers.accept = "application/json, text/event-stream";
      },
    },
  );
  router.handle(
    c.stream,
    async () => {
      throw notOffered("no server-initiated stream");
    },
    { config, security: [{ bearer: [] }] },
  );
  router.handle(
    c.end,
    async () => {
      throw notOffered("no session to end");
    },
    { config, security: [{ bearer: [] }] },
  );
}
