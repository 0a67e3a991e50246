import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/**
 * What the fake deploy hosts share: a loopback HTTP server, bodies read with a size limit, JSON answers.
 * Each fake (vercel.ts, netlify.ts, cloudflare-pages.ts) implements only the endpoints Kiln uses, shaped after
 * the provider's API reference, and refuses what the provider refuses.
 */
export interface FakeRequest {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface FakeAnswer {
  status: number;
  json?: unknown;
}

export interface FakeServer {
  url: string;
  /** Every request in order: `METHOD /path` (what a test asserts the flow with). */
  calls: string[];
  close(): Promise<void>;
}

export class TooLarge extends Error {}

export async function startFake(
  maxBody: number,
  handle: (req: FakeRequest) => FakeAnswer | Promise<FakeAnswer>,
  tooLarge: () => FakeAnswer,
): Promise<FakeServer> {
  const calls: string[] = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    calls.push(`${req.method} ${url.pathname}`);
    let answer: FakeAnswer;
    try {
      const body = await readBody(req, maxBody);
      answer = await handle({ method: req.method ?? "GET", url, headers: req.headers, body });
    } catch (err) {
      if (!(err instanceof TooLarge)) throw err;
      answer = tooLarge();
    }
    const text = answer.json === undefined ? "" : JSON.stringify(answer.json);
    res.writeHead(answer.status, text ? { "content-type": "application/json" } : {});
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > max) {
    req.resume();
    throw new TooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) throw new TooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function bearer(req: FakeRequest): string | undefined {
  const m = /^Bearer (\S+)$/.exec(String(req.headers.authorization ?? ""));
  return m?.[1];
}

/** The body as JSON, only when sent as JSON; undefined otherwise (the caller answers as its API does). */
export function jsonBody(req: FakeRequest): { ok: true; value: unknown } | { ok: false; why: string } {
  const type = String(req.headers["content-type"] ?? "");
  if (!/^application\/json\b/.test(type)) return { ok: false, why: `unsupported content type "${type}"` };
  try {
    return { ok: true, value: JSON.parse(req.body.toString("utf8")) };
  } catch {
    return { ok: false, why: "the body is not valid JSON" };
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The keys of `v` that `allowed` does not name (what a strict schema refuses). */
export function unknownKeys(v: Record<string, unknown>, allowed: readonly string[]): string[] {
  return Object.keys(v).filter((k) => !allowed.includes(k));
}

export const sha1 = (bytes: Buffer) => createHash("sha1").update(bytes).digest("hex");
export const hex = (bytes: number) => randomBytes(bytes).toString("hex");
export const SHA1 = /^[0-9a-f]{40}$/;

/** A relative file path as the hosts take it: no empty, `.` or `..` segment, no backslash or control chars. */
export function isCleanPath(path: string): boolean {
  if (!path || path.includes("\\")) return false;
  if ([...path].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return false;
  return path.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}
