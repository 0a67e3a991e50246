import { once } from "node:events";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

/** HTML pages larger than this are passed through untouched rather than held in memory. */
const MAX_HTML_BYTES = 4 * 1024 * 1024;

/**
 * Whether a proxied answer is an HTML page we can put a script into: a body (not HEAD, 204 or 304),
 * `text/html`, not compressed (we ask for identity, but a server may compress anyway), ASCII-compatible,
 * and without a Content-Security-Policy, which could forbid inline scripts (the page would log a violation).
 */
export function canInject(method: string | undefined, answer: IncomingMessage): boolean {
  const status = answer.statusCode ?? 0;
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) return false;
  const type = String(answer.headers["content-type"] ?? "").toLowerCase();
  if (!type.startsWith("text/html") || /charset=["']?utf-?(16|32)/.test(type)) return false;
  const encoding = String(answer.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding !== "identity" && encoding !== "") return false;
  return answer.headers["content-security-policy"] === undefined;
}

/** Puts `snippet` first in <head>; without one, after <body> or the doctype; else at the very start. */
export function injectHtml(html: Buffer, snippet: string): Buffer {
  // latin1 maps bytes to characters one to one, so a found index is a byte offset (tags are ASCII).
  const text = html.toString("latin1");
  const at =
    endOf(text, /<head(?:\s[^>]*)?>/i) ??
    endOf(text, /<body(?:\s[^>]*)?>/i) ??
    endOf(text, /<!doctype[^>]*>/i) ??
    0;
  return Buffer.concat([html.subarray(0, at), Buffer.from(snippet), html.subarray(at)]);
}

function endOf(text: string, re: RegExp): number | undefined {
  const m = re.exec(text);
  return m ? m.index + m[0].length : undefined;
}

/**
 * Sends a proxied HTML answer with `snippet` injected: the body is read whole, so Content-Length can be
 * set to the new length. A page over MAX_HTML_BYTES is streamed on unchanged.
 */
export async function relayWithInjection(
  answer: IncomingMessage,
  res: ServerResponse,
  headers: OutgoingHttpHeaders,
  snippet: string,
): Promise<void> {
  const chunks: Buffer[] = [];
  let size = 0;
  const body = answer[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    const { value, done } = await body.next();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size > MAX_HTML_BYTES) {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
      for (const chunk of chunks) res.write(chunk);
      for (let next = await body.next(); !next.done; next = await body.next()) {
        if (res.destroyed) return;
        if (!res.write(next.value)) await Promise.race([once(res, "drain"), once(res, "close")]);
      }
      res.end();
      return;
    }
  }
  const html = injectHtml(Buffer.concat(chunks), snippet);
  const out: OutgoingHttpHeaders = { ...headers, "content-length": String(html.length) };
  delete out["content-md5"];
  res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
  res.end(html);
}
