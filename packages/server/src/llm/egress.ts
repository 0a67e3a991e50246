import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { Readable } from "node:stream";
import { KilnError } from "../errors/errors.ts";

/**
 * Org admins choose their providers' URLs and the server calls them, so without a guard an org could make
 * Kiln reach the host's loopback, the private network or a cloud metadata endpoint (SSRF). The guard is
 * applied to the address actually connected to (resolved once, checked, then used), so DNS rebinding
 * between check and connect does not get around it. Redirects are not followed.
 */

const blocked = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, cloud metadata
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 3], // multicast and reserved, up to 255.255.255.255
] as const) {
  blocked.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["ff00::", 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, "ipv6");
}

export class ForbiddenAddressError extends KilnError {
  constructor(host: string) {
    super(
      "provider_url_forbidden",
      400,
      `provider address ${host} is loopback, private or link-local; an instance admin can allow it with KILN_LLM_ALLOW_PRIVATE_URLS=1`,
    );
  }
}

/** Whether an IP address is one an org's provider may not point at. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, "ipv4");
  if (family !== 6) return true;
  const lower = address.toLowerCase();
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses reach IPv4 hosts.
  const embedded = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
  if (embedded) return blocked.check(embedded, "ipv4");
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const n = (Number.parseInt(hex[1]!, 16) << 16) | Number.parseInt(hex[2]!, 16);
    return blocked.check([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join("."), "ipv4");
  }
  return blocked.check(address, "ipv6");
}

/** A lookup that refuses names resolving to a blocked address (any of them). */
export function guardedLookup(blocks: (address: string) => boolean = isPrivateAddress): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, "", 4);
      const bad = addresses.find((a) => blocks(a.address));
      if (bad || addresses.length === 0) return callback(new ForbiddenAddressError(hostname), "", 4);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** Refuses a URL whose host is a blocked literal address or localhost (other names: at connect time). */
export function assertPublicUrl(url: URL, blocks: (address: string) => boolean = isPrivateAddress): void {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) && blocks(host)) throw new ForbiddenAddressError(host);
  if (!isIP(host) && (host === "localhost" || host.endsWith(".localhost")))
    throw new ForbiddenAddressError(host);
}

/**
 * A `fetch` for org providers: plain node:http(s) with the guarded lookup. Supports what the AI SDK's
 * providers use — string or byte bodies, headers, abort signals, streamed responses.
 */
export function createGuardedFetch(blocks: (address: string) => boolean = isPrivateAddress): typeof fetch {
  const lookup = guardedLookup(blocks);
  return async (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new TypeError(`unsupported URL ${url}`);
    assertPublicUrl(url, blocks);
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== "string" && !(body instanceof Uint8Array)) {
      throw new TypeError("guardedFetch sends only string or byte bodies");
    }
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    const client = url.protocol === "https:" ? https : http;
    return new Promise<Response>((resolve, reject) => {
      const req = client.request(
        url,
        { method: init.method ?? "GET", headers, lookup, ...(signal ? { signal } : {}) },
        (res) => {
          const status = res.statusCode ?? 502;
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined) continue;
            for (const v of Array.isArray(value) ? value : [value]) responseHeaders.append(name, v);
          }
          const empty = status === 204 || status === 304 || init.method === "HEAD";
          if (empty) res.resume();
          resolve(
            new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
              status,
              statusText: res.statusMessage ?? "",
              headers: responseHeaders,
            }),
          );
        },
      );
      req.on("error", reject);
      req.end(body ?? undefined);
    });
  };
}

export const guardedFetch = createGuardedFetch();
