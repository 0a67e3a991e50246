import { type AnyRoute, ErrorEnvelope, type Permission, type RouteReturn, Upload } from "@kiln/protocol";
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
  RouteOptions,
} from "fastify";
import type { WebSocket } from "ws";
import type { z } from "zod";
import { type Principal, principalOf } from "./principal.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The contract a route was registered from (http/contract-router.ts). */
    contract?: AnyRoute;
  }
  interface FastifyRequest {
    /** What the route's contract resolved before the handler: the caller's access to the path's `:org`. */
    scope: unknown;
  }
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** A request as the handler of `R` sees it: parsed params, query and body, and the scope when under an org. */
export type ContractRequest<R extends AnyRoute, Scope> = FastifyRequest<{
  Params: Out<R["params"]>;
  Querystring: Out<R["query"]>;
  Body: Out<R["body"]>;
}> & { scope: R["permission"] extends Permission ? Scope : undefined };

/**
 * A stream writes its own answer through the reply; every other route returns its body, or the reply when it
 * answered through it (a JSON route that streams when asked with Accept: text/event-stream).
 */
type HandlerResult<R extends AnyRoute> = R["stream"] extends string ? unknown : RouteReturn<R> | FastifyReply;

export type ContractHandler<R extends AnyRoute, Scope> = (
  request: ContractRequest<R, Scope>,
  reply: FastifyReply,
) => R["status"] extends 204 ? Promise<void> : Promise<HandlerResult<R>>;

export interface HandleOptions<R extends AnyRoute, Scope> {
  bodyLimit?: number;
  /** Route config besides the contract's (`tokenOnly`). */
  config?: Record<string, unknown>;
  /** Runs after the scope is resolved and the permission checked (opens what the handler needs). */
  preHandler?: (request: ContractRequest<R, Scope>, reply: FastifyReply) => Promise<void>;
  /** For a `websocket` route: the socket, once upgraded. */
  wsHandler?: (socket: WebSocket, request: ContractRequest<R, Scope>) => void;
  /** OpenAPI security requirements, when the route takes other credentials than a user's. */
  security?: Array<Record<string, string[]>>;
}

export interface ScopeRules<Scope> {
  /** The caller's access to an org (404 when they are not a member). */
  resolve(principal: Principal, orgRef: string): Promise<Scope>;
  /** Throws `forbidden` when the scope lacks the permission. */
  authorize(scope: Scope, permission: Permission): void;
}

/**
 * Registers handlers against contracts (protocol `routes`). For a route under `:org` a preHandler resolves
 * the caller's access and checks the contract's permission once, before the body is acted on; the handler
 * finds it in `request.scope`. The status, schemas and OpenAPI extensions all come from the contract.
 */
export class ContractRouter<Scope> {
  readonly #app: FastifyInstance;
  readonly #rules: ScopeRules<Scope>;

  constructor(app: FastifyInstance, rules: ScopeRules<Scope>) {
    this.#app = app;
    this.#rules = rules;
    app.decorateRequest("scope", undefined);
  }

  handle<R extends AnyRoute>(
    route: R,
    handler: ContractHandler<R, Scope>,
    options: HandleOptions<R, Scope> = {},
  ): void {
    const status = route.status ?? 200;
    if (route.upload) this.#acceptRaw(route.upload);
    const preHandlers: preHandlerAsyncHookHandler[] = [];
    if (route.permission) preHandlers.push(this.#scope(route.permission));
    if (options.preHandler) preHandlers.push(options.preHandler as unknown as preHandlerAsyncHookHandler);
    const definition: RouteOptions = {
      method: route.method,
      url: route.path,
      config: { ...options.config, contract: route, ...(route.auth ? { auth: route.auth } : {}) },
      schema: {
        tags: [...route.tags],
        summary: route.summary,
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { querystring: route.query } : {}),
        ...(route.body ? { body: route.body } : {}),
        ...(route.upload ? { body: Upload, consumes: [route.upload] } : {}),
        response:
          // A 204 declares `z.null()`: the document shows no body.
          route.stream === "websocket"
            ? { "4xx": ErrorEnvelope }
            : { [status]: this.#success(route), "4xx": ErrorEnvelope },
        ...(options.security ? { security: options.security } : {}),
        ...(route.permission ? { "x-kiln-permission": route.permission } : {}),
        ...(route.others ? { "x-kiln-others": route.others } : {}),
        ...(route.stream ? { "x-kiln-stream": route.stream } : {}),
        ...(route.errors?.length ? { "x-kiln-errors": [...route.errors] } : {}),
      },
      ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
      ...(preHandlers.length ? { preHandler: preHandlers } : {}),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const result = await handler(request as ContractRequest<R, Scope>, reply);
        if (route.stream || result === reply || reply.sent) return result;
        reply.code(status);
        return status === 204 ? reply.send() : result;
      },
      ...(options.wsHandler ? { wsHandler: options.wsHandler as RouteOptions["wsHandler"] } : {}),
    };
    this.#app.route(definition);
  }

  /** A download's answer is documented under its own media type; the bytes go out unserialized. */
  #success(route: AnyRoute): unknown {
    if (!route.produces) return route.response;
    return { description: route.summary, content: { [route.produces]: { schema: route.response } } };
  }

  /** An upload's body reaches its handler as the request stream, read (and limited) there. */
  #acceptRaw(type: string): void {
    if (this.#app.hasContentTypeParser(type)) return;
    this.#app.addContentTypeParser(type, (_request, payload, done) => done(null, payload));
  }

  #scope(permission: Permission): preHandlerAsyncHookHandler {
    const rules = this.#rules;
    return async (request) => {
      const { org } = request.params as { org: string };
      const scope = await rules.resolve(principalOf(request), org);
      rules.authorize(scope, permission);
      request.scope = scope;
    };
  }
}
