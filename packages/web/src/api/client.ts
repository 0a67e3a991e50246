import { CSRF_COOKIE, CSRF_HEADER, type ErrorEnvelope, hostOnlyCookie, routes } from "@kiln/protocol";
import { ApiError } from "./errors.ts";

/**
 * The readable cookie the server pairs with the session; echoed in `CSRF_HEADER` on unsafe requests. Over
 * https it is a `__Host-` cookie (no other host of the site can set one); the plain name is http's.
 */
const CSRF_COOKIES = [hostOnlyCookie(CSRF_COOKIE), CSRF_COOKIE] as const;
/** These answer 401 for reasons a refresh cannot fix (wrong password, no refresh cookie). */
const NO_REFRESH: readonly string[] = [
  routes.auth.login.path,
  routes.auth.signup.path,
  routes.auth.refresh.path,
  routes.auth.logout.path,
];

type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** A raw upload (a route's `upload`): sent as is, with its media type, instead of a JSON body. */
  upload?: { type: string; data: Blob };
  signal?: AbortSignal;
}

export function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

function csrfCookie(): string | undefined {
  for (const name of CSRF_COOKIES) {
    const value = readCookie(name);
    if (value) return value;
  }
  return undefined;
}

/**
 * Whether this browser may hold a session: the CSRF cookie is readable and lives exactly as long as the
 * refresh token, and logging out clears it. Without it there is nothing to ask the server about (asking
 * would only log a 401 in the console); with it the server still decides.
 */
export function maybeSignedIn(): boolean {
  return csrfCookie() !== undefined;
}

/** Forgets the CSRF cookie, so no one tries to refresh a session that is over. */
function forgetCsrfCookie(): void {
  // biome-ignore-start lint/suspicious/noDocumentCookie: the Cookie Store API is missing from Firefox and Safari
  document.cookie = `${hostOnlyCookie(CSRF_COOKIE)}=; Max-Age=0; Path=/; Secure`;
  document.cookie = `${CSRF_COOKIE}=; Max-Age=0; Path=/`;
  // biome-ignore-end lint/suspicious/noDocumentCookie: see above
}

function signedOut(): void {
  setTimeout(() => {
    for (const listener of unauthenticatedListeners) listener();
  }, 0);
}

function withQuery(path: string, query: Query | undefined): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function toError(res: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return new ApiError(res.status, res.status >= 500 ? "internal_error" : "bad_request", res.statusText);
  }
  const envelope = body as Partial<ErrorEnvelope>;
  if (envelope?.error && typeof envelope.error.code === "string") {
    return new ApiError(res.status, envelope.error.code, envelope.error.message, envelope.error.details);
  }
  return new ApiError(res.status, "internal_error", res.statusText);
}

async function errorCode(res: Response): Promise<string | undefined> {
  const body = await res
    .clone()
    .json()
    .catch(() => undefined);
  return body?.error?.code;
}

let refreshing: Promise<boolean> | undefined;
const unauthenticatedListeners = new Set<() => void>();

/** Called when the session is gone for good (refresh failed): the app sends the user to log in. */
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

/**
 * One refresh at a time: several requests failing together with an expired token share it, since the
 * server treats a second use of a rotated refresh token as reuse.
 */
export function refreshSession(): Promise<boolean> {
  refreshing ??= (async () => {
    try {
      const res = await send(routes.auth.refresh.method, routes.auth.refresh.path, {});
      // A refused refresh means the session is over; forget its CSRF cookie so no one tries again.
      if (res.status === 401) forgetCsrfCookie();
      return res.ok;
    } catch {
      return false;
    } finally {
      setTimeout(() => {
        refreshing = undefined;
      }, 0);
    }
  })();
  return refreshing;
}

function send(method: string, url: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  let body: BodyInit | undefined;
  if (opts.upload) {
    headers["content-type"] = opts.upload.type;
    body = opts.upload.data;
  } else if (opts.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(opts.body);
  }
  if (method !== "GET" && method !== "HEAD") {
    const csrf = csrfCookie();
    if (csrf) headers[CSRF_HEADER] = csrf;
  }
  return fetch(url, { method, headers, body, credentials: "same-origin", signal: opts.signal ?? null });
}

/**
 * A JSON request to the Kiln API. A 401 from an expired (or already dropped) access token triggers one
 * refresh and one retry; any other failure becomes an ApiError with the server's code.
 */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const url = withQuery(path, opts.query);
  let res: Response;
  try {
    res = await send(method, url, opts);
    // Another host of the site planted cookies with the session's names (cookie tossing): the server refused
    // the request before acting on it and cleared every copy. With the CSRF cookie left, ask again (a
    // refresh follows if the access cookie went); without it this session can change nothing: sign in.
    if (res.status === 400 && (await errorCode(res)) === "duplicate_cookies") {
      if (csrfCookie()) res = await send(method, url, opts);
      else signedOut();
    }
    // Without the CSRF cookie there never was a session here (it lives as long as the refresh token).
    if (res.status === 401 && !NO_REFRESH.includes(path) && csrfCookie()) {
      const code = await errorCode(res);
      if (code === "token_expired" || code === "unauthenticated") {
        if (await refreshSession()) res = await send(method, url, opts);
        else signedOut();
      }
    }
  } catch (err) {
    if (err instanceof DOMException && err.name === "AbortError") throw err;
    throw new ApiError(0, "network_error", "network error");
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}
