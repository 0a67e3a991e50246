import { EgressRefusedError, EgressUnresolvedError } from "@kiln/agent";
import type { GitHostKind, GitHostRepository } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";

/** What Kiln asks of a git host's REST API (ADR 0028); one implementation per kind. */
export interface HostApi {
  /** The token's account; a refused token is `git_host_token_refused`. */
  currentUser(): Promise<{ login: string }>;
  /** The first 100 repositories the account can reach, recently updated first. */
  repositories(): Promise<GitHostRepository[]>;
  /** A new, empty repository of the account; `git_repository_exists` when the name is taken. */
  createRepository(name: string, isPrivate: boolean): Promise<GitHostRepository>;
  openPullRequest(
    fullName: string,
    pr: { head: string; base: string; title: string; body: string },
  ): Promise<{ url: string; number: number }>;
}

export interface HostApiOptions {
  kind: GitHostKind;
  apiUrl: string;
  token: string;
  /** The egress-checked fetch (the one address policy). */
  fetch: typeof fetch;
}

/** Bytes of an answer read at most: REST answers are small JSON documents. */
const MAX_ANSWER = 4 * 1024 * 1024;
const TIMEOUT_MS = 30_000;

// biome-ignore lint/suspicious/noExplicitAny: a host's JSON, read field by field where used
export type Json = any;

/** One JSON request to a host's API; network failures and refusals become typed errors. */
export async function callHost(
  o: HostApiOptions,
  what: string,
  method: string,
  route: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: Json }> {
  let res: Response;
  try {
    res = await o.fetch(`${o.apiUrl.replace(/\/+$/, "")}${route}`, {
      method,
      headers: {
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      redirect: "error",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw unreachable(what, err);
  }
  const text = await readCapped(res, what);
  let json: Json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    if (res.ok) throw new KilnError("git_host_error", `${what}: the host answered something not JSON`);
    json = { message: text.slice(0, 300) };
  }
  return { status: res.status, json };
}

/** A network failure as a typed error (the address policy's refusal is the caller's 400). */
export function unreachable(what: string, err: unknown): KilnError {
  const cause = (err as Error)?.cause ?? err;
  if (cause instanceof EgressRefusedError || err instanceof EgressRefusedError)
    return new KilnError("egress_refused", `${what}: ${(cause as Error).message}`);
  // The API root's name (the tenant's, or the default) resolves to nothing from this server: fix the URL.
  if (cause instanceof EgressUnresolvedError || err instanceof EgressUnresolvedError)
    return new KilnError("git_host_unresolved", `${what}: the host's name does not resolve from this server`);
  return new KilnError(
    "git_host_error",
    `${what}: the host could not be reached (${(err as Error).message})`,
  );
}

/** A refusal as a typed error: 401 the token, otherwise the host's status and message (never the token). */
export function refusal(what: string, status: number, said: unknown): KilnError {
  const text = (typeof said === "string" ? said : JSON.stringify(said ?? "")).slice(0, 300);
  if (status === 401)
    return new KilnError("git_host_token_refused", `${what}: the host refused the token (401)`, {
      details: { status },
    });
  return new KilnError("git_host_error", `${what}: the host answered ${status}: ${text}`, {
    details: { status },
  });
}

async function readCapped(res: Response, what: string): Promise<string> {
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    if (size > MAX_ANSWER) {
      await res.body.cancel().catch(() => {});
      throw new KilnError("git_host_error", `${what}: the host's answer is larger than ${MAX_ANSWER} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A field that must be a non-empty string in a host's answer. */
export function field(what: string, value: unknown): string {
  if (typeof value !== "string" || !value)
    throw new KilnError("git_host_error", `${what}: the host's answer lacks a field Kiln needs`);
  return value;
}

/** `owner/name` split for the hosts' `/repos/{owner}/{repo}` routes. */
export function ownerAndName(fullName: string): { owner: string; repo: string } {
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(fullName);
  if (!m) throw new KilnError("git_host_error", `not an owner/name repository: ${fullName.slice(0, 100)}`);
  return { owner: m[1]!, repo: m[2]! };
}

/** The host already has an open request between these branches. */
export function pullRequestExists(head: string, base: string): KilnError {
  return new KilnError("pull_request_exists", `an open pull request from ${head} to ${base} already exists`);
}
