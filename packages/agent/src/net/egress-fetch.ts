import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import { Readable } from "node:stream";
import tls from "node:tls";
import type { AddressPolicy, ResolvedAddress } from "./address-policy.ts";

export interface EgressFetchOptions {
  /** Redirects followed when `redirect` is "follow" (the default); each hop is checked again. */
  maxRedirects?: number;
  /** Extra certificate authorities trusted for https, besides Node's bundled ones (an operator's own CA). */
  ca?: string;
}

// Credentials meant for one origin must not be replayed to another one a redirect names.
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie", "x-api-key"];

/**
 * A `fetch` whose every connection, redirect hops included, goes to an address the policy allowed:
 * node:http(s) with a `lookup` that hands back the address `policy.pin` checked, so the socket cannot land
 * on a second, different DNS answer. Supports what the AI SDK's providers and `web_fetch` use — string or
 * byte bodies, headers, abort signals, streamed responses, `redirect: "follow" | "manual" | "error"`.
 */
export function createEgressFetch(policy: AddressPolicy, options: EgressFetchOptions = {}): typeof fetch {
  const maxRedirects = options.maxRedirects ?? 5;
  // Pools of this fetch alone: a kept-alive socket was connected to an address this policy allowed.
  const agents = {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({
      keepAlive: true,
      ...(options.ca ? { ca: [...tls.rootCertificates, options.ca] } : {}),
    }),
  };
  return async (input, init = {}) => {
    let url = new URL(input instanceof Request ? input.url : String(input));
    let method = (init.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined));
    if (input instanceof Request && input.body && init.body === undefined) {
      throw new TypeError("egress fetch takes a request body in init.body, not in a Request");
    }
    let body = init.body ?? undefined;
    // A form (OAuth token requests): sent as fetch would, urlencoded.
    if (body instanceof URLSearchParams) {
      if (!headers.has("content-type"))
        headers.set("content-type", "application/x-www-form-urlencoded;charset=UTF-8");
      body = body.toString();
    }
    if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) {
      throw new TypeError("egress fetch sends only string or byte bodies");
    }
    const signal = init.signal ?? undefined;
    for (let hop = 0; ; hop++) {
      signal?.throwIfAborted();
      const pinned = await abortable(policy.pin(url), signal);
      const res = await send(url, pinned, agents, { method, headers, body, signal });
      const location = res.headers.get("location");
      if (init.redirect === "manual" || res.status < 300 || res.status >= 400 || !location) return res;
      await res.body?.cancel();
      if (init.redirect === "error") throw new TypeError(`redirected to ${location}`);
      if (hop >= maxRedirects) throw new TypeError(`more than ${maxRedirects} redirects`);
      const next = new URL(location, url);
      if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) headers.delete(name);
      // What browsers do (fetch spec, "HTTP-redirect fetch"): 303, and 301/302 after a POST, become GET.
      if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
        if (method !== "HEAD") method = "GET";
        body = undefined;
        headers.delete("content-type");
        headers.delete("content-length");
      }
      url = next;
    }
  };
}

function send(
  url: URL,
  pinned: ResolvedAddress[],
  agents: { http: http.Agent; https: https.Agent },
  o: { method: string; headers: Headers; body: string | Uint8Array | null | undefined; signal?: AbortSignal },
): Promise<Response> {
  const secure = url.protocol === "https:";
  // Only the checked addresses, all of them when asked (Node tries each in turn: happy eyeballs).
  const lookup: LookupFunction = (_host, opts, callback) => {
    if (opts.all) (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, pinned);
    else callback(null, pinned[0]!.address, pinned[0]!.family);
  };
  return new Promise<Response>((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      {
        method: o.method,
        headers: Object.fromEntries(o.headers.entries()),
        agent: secure ? agents.https : agents.http,
        lookup,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      (res) => {
        const status = res.statusCode ?? 502;
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          if (value === undefined) continue;
          for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
        }
        const empty = status === 204 || status === 304 || o.method === "HEAD";
        if (empty) res.resume();
        try {
          resolve(
            new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
              status,
              statusText: res.statusMessage ?? "",
              headers: responseHeaders,
            }),
          );
        } catch (err) {
          // A status Response cannot carry (below 200 or above 599).
          res.destroy();
          reject(err);
        }
      },
    );
    req.on("error", reject);
    req.end(o.body ?? undefined);
  });
}

/** DNS (getaddrinfo) cannot be cancelled; the caller stops waiting for it when its signal fires. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
