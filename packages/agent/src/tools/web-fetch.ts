import { z } from "zod";
import { AddressPolicy, EgressRefusedError, EgressUnresolvedError } from "../net/address-policy.ts";
import { createEgressFetch } from "../net/egress-fetch.ts";
import { defineTool, type ToolDefinition } from "../tool.ts";
import { htmlToText } from "./html-to-text.ts";

export interface WebFetchOptions {
  /** Which addresses may be connected to (default: public unicast, not this host's own; no exemptions). */
  policy?: AddressPolicy;
  /** Most response bytes read (default 2 MiB). */
  maxBytes?: number;
  /** Whole fetch including redirects (default 30 s). */
  timeoutMs?: number;
  maxRedirects?: number;
}

class FetchRefused extends Error {}

/**
 * `web_fetch` for documentation and public APIs. The security boundary is the address actually connected
 * to, for the first request and every redirect hop: the egress fetch resolves each host once, checks every
 * answer against the server's address policy and connects to the checked address (net/egress-fetch.ts).
 */
export function createWebFetchTool(options: WebFetchOptions = {}): ToolDefinition {
  const egressFetch = createEgressFetch(options.policy ?? new AddressPolicy());
  const maxBytes = options.maxBytes ?? 2 * 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxRedirects = options.maxRedirects ?? 5;

  return defineTool({
    name: "web_fetch",
    description:
      "Fetch a public web page or API over http(s) and return it as text (HTML is converted to plain text). " +
      "Use it for documentation and package READMEs. Internal and private network addresses are refused.",
    input: z.object({
      url: z.string().min(1).max(4000).describe("Absolute http:// or https:// URL"),
    }),
    mutates: false,
    timeoutMs: timeoutMs + 5000,
    async execute(input, ctx) {
      let url: URL;
      try {
        url = new URL(input.url);
      } catch {
        return { output: `Not a valid absolute URL: ${input.url}`, isError: true };
      }
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
      try {
        for (let hop = 0; ; hop++) {
          if (url.protocol !== "http:" && url.protocol !== "https:") {
            throw new FetchRefused(`only http and https URLs can be fetched, not ${url.protocol}`);
          }
          if (url.username || url.password) throw new FetchRefused("URLs with credentials are not fetched");
          const response = await request(egressFetch, url, { maxBytes, signal });
          if (response.status >= 300 && response.status < 400 && response.location) {
            if (hop >= maxRedirects) throw new FetchRefused(`more than ${maxRedirects} redirects`);
            url = new URL(response.location, url);
            continue;
          }
          const type = response.contentType;
          const text = toText(response.body, type);
          const header = `URL: ${url.href}\nStatus: ${response.status}\nContent-Type: ${type || "unknown"}${response.truncated ? `\n(only the first ${maxBytes} bytes were read)` : ""}\n\n`;
          return {
            output: header + text,
            isError: response.status >= 400,
            metadata: {
              url: url.href,
              status: response.status,
              contentType: type,
              bytes: response.body.length,
              truncated: response.truncated,
            },
          };
        }
      } catch (err) {
        if (
          err instanceof FetchRefused ||
          err instanceof EgressRefusedError ||
          err instanceof EgressUnresolvedError
        )
          return { output: `Refused: ${err.message}.`, isError: true };
        if (ctx.signal.aborted) throw err;
        if (signal.aborted)
          return { output: `The fetch took longer than ${timeoutMs / 1000} s.`, isError: true };
        return { output: `Fetch failed: ${(err as Error).message}`, isError: true };
      }
    },
  });
}

interface FetchedResponse {
  status: number;
  location?: string;
  contentType: string;
  body: Buffer;
  truncated: boolean;
}

async function request(
  egressFetch: typeof fetch,
  url: URL,
  options: { maxBytes: number; signal: AbortSignal },
): Promise<FetchedResponse> {
  const res = await egressFetch(url, {
    redirect: "manual",
    signal: options.signal,
    headers: {
      "user-agent": "KilnAgent/0.1 (+web_fetch)",
      accept: "text/html,text/plain,text/markdown,application/json;q=0.9,*/*;q=0.5",
      "accept-encoding": "identity",
    },
  });
  const location = res.headers.get("location") ?? undefined;
  const head = { status: res.status, location, contentType: res.headers.get("content-type") ?? "" };
  if (res.status >= 300 && res.status < 400 && location) {
    await res.body?.cancel();
    return { ...head, body: Buffer.alloc(0), truncated: false };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  try {
    for await (const chunk of (res.body ?? []) as AsyncIterable<Uint8Array>) {
      if (size + chunk.byteLength > options.maxBytes) {
        chunks.push(Buffer.from(chunk.subarray(0, options.maxBytes - size)));
        truncated = true;
        // Leaving the loop cancels the rest of the body.
        break;
      }
      chunks.push(Buffer.from(chunk));
      size += chunk.byteLength;
    }
  } catch (err) {
    if (!truncated) throw err;
  }
  return { ...head, body: Buffer.concat(chunks), truncated };
}

function toText(body: Buffer, contentType: string): string {
  const type = contentType.toLowerCase();
  const looksBinary = body.subarray(0, 4096).includes(0);
  if (looksBinary || /^(image|audio|video|font)\/|application\/(octet-stream|pdf|zip|gzip)/.test(type)) {
    return `(binary content, ${body.length} bytes, not shown)`;
  }
  const text = body.toString("utf8");
  if (type.includes("html") || (!type && /^\s*<(!doctype html|html)/i.test(text))) return htmlToText(text);
  if (type.includes("json")) {
    try {
      return JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      return text;
    }
  }
  return text;
}
