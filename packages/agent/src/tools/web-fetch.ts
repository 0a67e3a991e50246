import { lookup as dnsLookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { z } from "zod";
import { defineTool, type ToolDefinition } from "../tool.ts";
import { htmlToText } from "./html-to-text.ts";
import { isPublicAddress } from "./web-address.ts";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface WebFetchOptions {
  /** DNS resolution (tests map names to fixed addresses). */
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>;
  /** Which resolved addresses may be connected to (default: public unicast only). */
  isAllowedAddress?: (address: string) => boolean;
  /** Most response bytes read (default 2 MiB). */
  maxBytes?: number;
  /** Whole fetch including redirects (default 30 s). */
  timeoutMs?: number;
  maxRedirects?: number;
}

class FetchRefused extends Error {}

const defaultLookup = async (hostname: string): Promise<ResolvedAddress[]> =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/**
 * `web_fetch` for documentation and public APIs. The security boundary is the address actually connected
 * to: the name is resolved once, every address checked, and the connection pinned to the checked one (a
 * custom `lookup`), so a DNS answer that changes between check and connect (rebinding) cannot reach an
 * internal service. Every redirect hop is checked the same way.
 */
export function createWebFetchTool(options: WebFetchOptions = {}): ToolDefinition {
  const resolve = options.lookup ?? defaultLookup;
  const allowed = options.isAllowedAddress ?? isPublicAddress;
  const maxBytes = options.maxBytes ?? 2 * 1024 * 1024;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxRedirects = options.maxRedirects ?? 5;

  async function pin(url: URL): Promise<ResolvedAddress> {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const addresses = isIP(host)
      ? [{ address: host, family: isIP(host) as 4 | 6 }]
      : await resolve(host).catch(() => {
          throw new FetchRefused(`could not resolve ${host}`);
        });
    if (addresses.length === 0) throw new FetchRefused(`could not resolve ${host}`);
    const bad = addresses.find((a) => !allowed(a.address));
    if (bad) {
      throw new FetchRefused(
        `${host} resolves to ${bad.address}, a private, loopback, link-local or otherwise internal address; only public addresses can be fetched`,
      );
    }
    return addresses[0]!;
  }

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
          const address = await pin(url);
          const response = await request(url, address, { maxBytes, signal });
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
        if (err instanceof FetchRefused) return { output: `Refused: ${err.message}.`, isError: true };
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

function request(
  url: URL,
  pinned: ResolvedAddress,
  options: { maxBytes: number; signal: AbortSignal },
): Promise<FetchedResponse> {
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method: "GET",
        agent: false,
        signal: options.signal,
        headers: {
          "user-agent": "KilnAgent/0.1 (+web_fetch)",
          accept: "text/html,text/plain,text/markdown,application/json;q=0.9,*/*;q=0.5",
          "accept-encoding": "identity",
        },
        // Connect to the address that was checked, never to a fresh DNS answer.
        lookup: ((_host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
          if (opts?.all) cb(null, [{ address: pinned.address, family: pinned.family }]);
          else cb(null, pinned.address, pinned.family);
        }) as never,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            location: typeof res.headers.location === "string" ? res.headers.location : undefined,
            contentType: String(res.headers["content-type"] ?? ""),
            body: Buffer.concat(chunks),
            truncated,
          });
        if ((res.statusCode ?? 0) >= 300 && (res.statusCode ?? 0) < 400 && res.headers.location) {
          res.destroy();
          done();
          return;
        }
        res.on("data", (chunk: Buffer) => {
          if (size + chunk.length > options.maxBytes) {
            chunks.push(chunk.subarray(0, options.maxBytes - size));
            size = options.maxBytes;
            truncated = true;
            res.destroy();
            done();
            return;
          }
          chunks.push(chunk);
          size += chunk.length;
        });
        res.on("end", done);
        res.on("error", (err) => (truncated ? done() : reject(err)));
      },
    );
    req.on("error", reject);
    req.end();
  });
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
