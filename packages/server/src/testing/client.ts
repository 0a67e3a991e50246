import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Send the body exactly as given (a string), for malformed-input tests. */
  raw?: string;
  /** Leave out the x-csrf-token header even when a CSRF cookie is held. */
  noCsrf?: boolean;
  /** The client's address as the server sees it (per-client rate limits). */
  remoteAddress?: string;
}

/**
 * Drives the app through `inject` like a browser would: keeps cookies (respecting Path), and echoes
 * the CSRF cookie in `x-csrf-token` on unsafe requests. `bearer` switches to header authentication.
 */
export class TestClient {
  readonly #app: FastifyInstance;
  readonly cookies = new Map<string, { value: string; path: string }>();
  bearer: string | undefined;

  constructor(app: FastifyInstance) {
    this.#app = app;
  }

  get csrf(): string | undefined {
    // `__Host-` when the instance is served over https (auth/cookies.ts).
    return (this.cookies.get("kiln_csrf") ?? this.cookies.get("__Host-kiln_csrf"))?.value;
  }

  async request(
    method: Method,
    url: string,
    body?: unknown,
    opts: RequestOptions = {},
  ): Promise<LightMyRequestResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    const pathname = url.split("?")[0]!;
    const cookie = [...this.cookies]
      .filter(
        ([, c]) => pathname === c.path || pathname.startsWith(c.path.endsWith("/") ? c.path : `${c.path}/`),
      )
      .map(([name, c]) => `${name}=${c.value}`)
      .join("; ");
    if (cookie && !this.bearer) headers.cookie = cookie;
    if (this.bearer) headers.authorization = `Bearer ${this.bearer}`;
    if (method !== "GET" && this.csrf && !opts.noCsrf && !this.bearer) headers["x-csrf-token"] ??= this.csrf;
    const options: InjectOptions = { method, url, headers };
    if (opts.remoteAddress) options.remoteAddress = opts.remoteAddress;
    if (opts.raw !== undefined) {
      options.payload = opts.raw;
      headers["content-type"] ??= "application/json";
    } else if (body !== undefined) {
      options.payload = body as InjectOptions["payload"];
    }
    const res = await this.#app.inject(options);
    for (const c of res.cookies as Array<{
      name: string;
      value: string;
      path?: string;
      expires?: Date;
      maxAge?: number;
    }>) {
      const expired = (c.expires && c.expires.getTime() <= Date.now()) || c.maxAge === 0 || c.value === "";
      if (expired) this.cookies.delete(c.name);
      else this.cookies.set(c.name, { value: c.value, path: c.path ?? "/" });
    }
    return res;
  }

  get(url: string, opts?: RequestOptions) {
    return this.request("GET", url, undefined, opts);
  }
  post(url: string, body?: unknown, opts?: RequestOptions) {
    return this.request("POST", url, body, opts);
  }
  patch(url: string, body?: unknown, opts?: RequestOptions) {
    return this.request("PATCH", url, body, opts);
  }
  put(url: string, body?: unknown, opts?: RequestOptions) {
    return this.request("PUT", url, body, opts);
  }
  delete(url: string, opts?: RequestOptions) {
    return this.request("DELETE", url, undefined, opts);
  }
}
