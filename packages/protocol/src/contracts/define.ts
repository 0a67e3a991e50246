import type { z } from "zod";
import type { ErrorCode } from "../errors.ts";
import type { Permission } from "../permissions.ts";

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * What a route asks of its caller: `required` (the default; a signed-in user or a token), `optional` (answers
 * anyone, knows the caller when there is one), `none` (ignores credentials altogether).
 */
export type Auth = "required" | "optional" | "none";

/** The path's `:name` segments, as a union of names. */
export type PathParamNames<P extends string> = P extends `${string}:${infer Name}/${infer Rest}`
  ? Name | PathParamNames<`/${Rest}`>
  : P extends `${string}:${infer Name}`
    ? Name
    : never;

// biome-ignore lint/suspicious/noExplicitAny: a contract's schemas are any zod type; callers keep the exact one
type AnySchema = z.ZodType<any, any>;

/**
 * One route, declared once: the server registers a handler against it, the studio calls it, the OpenAPI
 * document and the tenancy and role sweeps read it. Paths use Fastify's `:name` syntax.
 */
export interface RouteDef {
  method: Method;
  path: string;
  summary: string;
  tags: readonly string[];
  /** Defaults to `required`. */
  auth?: Auth;
  /**
   * The permission a member of the path's `:org` needs (protocol/permissions.ts). The server resolves the org
   * and checks it once per request, before the handler runs; an org route without one is a type error.
   * Services check again as a second line, and may ask for more (a comment's author, a member leaving).
   */
  permission?: Permission;
  /**
   * What it takes to do this to what someone else made or to someone else (another's comment, another
   * member), when less (`permission`) suffices for one's own (a member leaving, editing one's own comment).
   * `none`: nobody may do it to another's (editing someone else's comment). Only the service knows whose it
   * is, so the service checks it.
   */
  others?: Permission | "none";
  params?: AnySchema;
  query?: AnySchema;
  body?: AnySchema;
  /**
   * The success status; 200 unless said. 302: a browser navigation answered with a redirect (an OAuth
   * hop); the handler sends it, and `response` is `z.null()`.
   */
  status?: 200 | 201 | 202 | 204 | 302;
  /** The success body: JSON, or for a stream each event's data; `z.null()` for a 204. */
  response: AnySchema;
  /**
   * How the route answers besides JSON: `sse` only streams server-sent events (asked for JSON it answers 406
   * once access is checked); `websocket` only upgrades (426 without an Upgrade header).
   */
  stream?: "sse" | "websocket";
  /**
   * The success body's media type when it is not JSON (a download): the handler sends the bytes through the
   * reply, and `response` describes them (`ZipBytes`).
   */
  produces?: string;
  /**
   * The request body is a raw upload of this media type, handed to the handler unread as a stream (it
   * enforces its own size limit); any other type is the handler's to refuse. Takes no `body` schema.
   */
  upload?: string;
  /** Failures particular to this route (not-found codes of its ids, conflicts); the common ones are implied. */
  errors?: readonly ErrorCode[];
}

type ParamsAgree<D extends RouteDef> = [PathParamNames<D["path"]>] extends [never]
  ? D["params"] extends AnySchema
    ? { params: "a path without :names takes no params" }
    : unknown
  : D["params"] extends AnySchema
    ? [keyof z.input<D["params"]>] extends [PathParamNames<D["path"]>]
      ? [PathParamNames<D["path"]>] extends [keyof z.input<D["params"]>]
        ? unknown
        : { params: `the params schema must name every :param of ${D["path"]}` }
      : { params: `the params schema names keys that ${D["path"]} lacks` }
    : { params: `${D["path"]} has :params: declare their schema` };

type OrgHasPermission<D extends RouteDef> =
  "org" extends PathParamNames<D["path"]>
    ? D["auth"] extends "none" | "optional"
      ? unknown
      : D["permission"] extends Permission
        ? unknown
        : { permission: "a route under :org must name the permission it needs" }
    : D["permission"] extends Permission
      ? { permission: "only a route under :org can ask for a permission" }
      : unknown;

/**
 * Declares a route. The checks are types: the params schema names exactly the path's `:params`, and a route
 * under an org names the permission it needs.
 */
export function defineRoute<const D extends RouteDef>(def: D & ParamsAgree<D> & OrgHasPermission<D>): D {
  return def;
}

// biome-ignore lint/suspicious/noExplicitAny: matches every contract, whatever its schemas
export type AnyRoute = RouteDef & { response: z.ZodType<any, any> };

type InputOf<S> = S extends AnySchema ? z.input<S> : undefined;
type OutputOf<S> = S extends AnySchema ? z.output<S> : undefined;

/** What a caller sends: the path's params, the query and the body, each only when the route has one. */
export type RouteInput<R extends RouteDef> = (R["params"] extends AnySchema
  ? { params: InputOf<R["params"]> }
  : { params?: undefined }) &
  (R["query"] extends AnySchema ? { query?: InputOf<R["query"]> } : { query?: undefined }) &
  (R["body"] extends AnySchema ? { body: InputOf<R["body"]> } : { body?: undefined });

/** What the route answers on success, as the caller reads it (after serialization). */
export type RouteResult<R extends RouteDef> = R["status"] extends 204 ? undefined : OutputOf<R["response"]>;
/** What a handler returns: the response schema's input, which the server serializes. */
export type RouteReturn<R extends RouteDef> = R["status"] extends 204 ? undefined : InputOf<R["response"]>;

/** The route's path with its params filled in (each encoded as one segment). */
export function pathOf(route: RouteDef, params: Record<string, string | number> | undefined): string {
  return route.path.replace(/:(\w+)/g, (_, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === "") throw new Error(`${route.path}: missing param ${name}`);
    return encodeURIComponent(String(value));
  });
}

/** `GET /api/orgs/{org}`: the OpenAPI spelling, which the sweeps and the document use as a route's name. */
export function routeKey(route: Pick<RouteDef, "method" | "path">): string {
  return `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`;
}
