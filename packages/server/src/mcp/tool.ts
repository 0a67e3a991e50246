import type { AnyRoute, ErrorCode, Permission } from "@kiln/protocol";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { FastifyBaseLogger } from "fastify";
import { z } from "zod";
import { pgErrorCode } from "../db/errors.ts";
import { isDatabaseUnavailable } from "../db/unavailable.ts";
import { KilnError, ValidationError } from "../errors/errors.ts";
import type { Principal } from "../http/principal.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess, OrgService } from "../orgs/service.ts";

/** What every tool of one request acts as: the caller the token named, nobody else. */
export interface ToolContext {
  principal: Principal;
  orgs: OrgService;
  log: FastifyBaseLogger;
}

/** A REST contract under `:org`: a tool takes its params, its permission and its body's (or query's) rules. */
type OrgRoute = AnyRoute & { permission: Permission; params: z.ZodObject };

type Params<R extends OrgRoute> = z.output<R["params"]>;
type Payload<R extends OrgRoute> = R["body"] extends z.ZodType
  ? z.output<R["body"]>
  : R["query"] extends z.ZodType
    ? z.output<R["query"]>
    : undefined;

export interface OrgToolSpec<R extends OrgRoute> {
  /** The route whose permission, params and input rules the tool has; the tool is that route for agents. */
  route: R;
  description: string;
  /** Does what the route's handler does, with the caller's checked org access. */
  run(scope: OrgAccess, params: Params<R>, payload: Payload<R>): Promise<unknown>;
}

const OK_TEXT = (value: unknown): CallToolResult => ({
  content: [{ type: "text", text: value === undefined ? '{"ok":true}' : JSON.stringify(value) }],
});

/** A refusal as the tool's result (isError), carrying the Kiln code a REST client would have seen. */
export function toolError(err: unknown, log: FastifyBaseLogger): CallToolResult {
  let error: { code: ErrorCode; message: string; details?: unknown };
  if (err instanceof KilnError && err.status < 500) {
    error = {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    };
  } else if (err instanceof KilnError && err.status === 503) {
    error = { code: err.code, message: err.message };
  } else if (pgErrorCode(err) === "22021") {
    // As over REST (http/error-handler.ts): PostgreSQL text cannot hold U+0000.
    error = { code: "bad_request", message: "text must not contain NUL (\\u0000) characters" };
  } else if (isDatabaseUnavailable(err)) {
    error = { code: "database_unavailable", message: "the database is unavailable; try again" };
  } else {
    log.error({ err }, "MCP tool failed");
    error = { code: "internal_error", message: "internal error" };
  }
  return { content: [{ type: "text", text: JSON.stringify({ error }) }], isError: true };
}

/**
 * The parts of a contract's body (or query) schema a tool shows as its own arguments, next to the path's
 * params. Refinements stay on the contract's schema, which checks the payload again before the service sees it.
 */
function payloadShape(route: OrgRoute): z.ZodRawShape {
  const schema = (route.body ?? route.query) as z.ZodObject | undefined;
  return schema?.shape ?? {};
}

/**
 * Registers a tool that is one org route for agents: the org resolved for the token's user (not a member:
 * `org_not_found`, as over REST), the route's permission checked, the arguments held to the route's schemas,
 * and the answer encoded by the route's response schema (what REST would have sent).
 */
export function orgTool<R extends OrgRoute>(
  server: McpServer,
  ctx: ToolContext,
  name: string,
  spec: OrgToolSpec<R>,
): void {
  const { route } = spec;
  const paramKeys = Object.keys(route.params.shape);
  const inputSchema = z.strictObject({ ...payloadShape(route), ...route.params.shape });
  const readOnly = route.method === "GET";
  server.registerTool(
    name,
    {
      description: `${spec.description} (as ${route.method} ${route.path}; needs ${route.permission})`,
      inputSchema,
      annotations: {
        readOnlyHint: readOnly,
        destructiveHint: route.method === "DELETE",
        openWorldHint: false,
      },
    },
    async (args: Record<string, unknown>) => {
      try {
        const params = route.params.parse(Object.fromEntries(paramKeys.map((k) => [k, args[k]])));
        const rest = Object.fromEntries(Object.entries(args).filter(([k]) => !paramKeys.includes(k)));
        const payloadSchema = (route.body ?? route.query) as z.ZodType | undefined;
        let payload: unknown;
        if (payloadSchema) {
          const parsed = payloadSchema.safeParse(rest);
          if (!parsed.success)
            throw new ValidationError("invalid arguments", { issues: parsed.error.issues });
          payload = parsed.data;
        }
        const scope = await ctx.orgs.access(ctx.principal.userId, String(params.org), ctx.principal);
        requirePermission(scope.role, route.permission);
        const result = await spec.run(scope, params as Params<R>, payload as Payload<R>);
        return OK_TEXT(result === undefined ? undefined : z.encode(route.response, result));
      } catch (err) {
        return toolError(err, ctx.log);
      }
    },
  );
}
