import { type AnyRoute, pathOf, type RouteInput, type RouteResult } from "@kiln/protocol";
import { request } from "./client.ts";

/**
 * Calls a route of the Kiln API by its contract (protocol `routes`): the method, the path and the types of
 * params, query, body and result all come from the one declaration the server registers, so none can drift.
 */
export function call<R extends AnyRoute>(
  route: R,
  input: RouteInput<R>,
  options: { signal?: AbortSignal } = {},
): Promise<RouteResult<R>> {
  const { params, query, body } = input as {
    params?: Record<string, string>;
    query?: object;
    body?: unknown;
  };
  return request<RouteResult<R>>(route.method, pathOf(route, params), {
    ...(query ? { query: query as Record<string, string | number | boolean | undefined> } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** Calls a route that takes a raw upload (its contract's `upload` media type) with `data` as the body. */
export function callUpload<R extends AnyRoute>(
  route: R,
  input: Pick<RouteInput<R>, "params" | "query">,
  data: Blob,
): Promise<RouteResult<R>> {
  if (!route.upload) throw new Error(`${route.path} takes no upload`);
  return request<RouteResult<R>>(route.method, urlOf(route, input), { upload: { type: route.upload, data } });
}

/** The URL of a route (for EventSource and WebSocket, which fetch does not open). */
export function urlOf<R extends AnyRoute>(route: R, input: Pick<RouteInput<R>, "params" | "query">): string {
  const path = pathOf(route, input.params as Record<string, string> | undefined);
  const query = input.query as Record<string, string | number | boolean | undefined> | undefined;
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) search.set(k, String(v));
  const qs = search.toString();
  return qs ? `${path}?${qs}` : path;
}

/** A route's body, as the caller writes it. */
export type BodyOf<R extends AnyRoute> = RouteInput<R>["body"];
/** A route's query, as the caller writes it. */
export type QueryOf<R extends AnyRoute> = NonNullable<RouteInput<R>["query"]>;
