import { isIPv4, isIPv6 } from "node:net";

/**
 * Which addresses a server-side fetch may connect to: public unicast only. Everything a server inside a
 * company network or a cloud can reach but the internet cannot — private and shared (CGNAT) ranges,
 * loopback, link-local (where cloud metadata lives: 169.254.169.254, fd00:ec2::254), multicast,
 * benchmarking, documentation and reserved blocks — is refused, including IPv4 addresses embedded in IPv6
 * (mapped, SIIT-translated, NAT64, 6to4). The host's own interface addresses are refused on top of these by
 * the policy (address-policy.ts): a host can hold a "public" address.
 */

const V4_BLOCKED: Array<[string, number]> = [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
];

const V6_BLOCKED: Array<[string, number]> = [
  ["::", 96], // unspecified, loopback and the deprecated IPv4-compatible form
  ["100::", 64], // discard
  ["64:ff9b:1::", 48], // local-use NAT64 (RFC 8215): translates into the operator's own network
  ["2001::", 23], // IETF protocol assignments, incl. Teredo
  ["2001:db8::", 32], // documentation
  ["3fff::", 20], // documentation
  ["5f00::", 16], // segment routing
  ["fc00::", 7], // unique local (fd00:ec2::254 is AWS metadata)
  ["fe80::", 10], // link-local
  ["fec0::", 10], // old site-local
  ["ff00::", 8], // multicast
];

export function isPublicAddress(address: string): boolean {
  const ip = canonicalAddress(address);
  if (ip === undefined) return false;
  if (isIPv4(ip)) return isPublicV4(v4ToInt(ip));
  const words = expandV6(ip)!;
  return !V6_BLOCKED.some(([net, bits]) => inV6(words, expandV6(net)!, bits));
}

function isPublicV4(value: number): boolean {
  return !V4_BLOCKED.some(([net, bits]) => {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (value & mask) >>> 0 === (v4ToInt(net) & mask) >>> 0;
  });
}

function v4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

/**
 * One spelling per address, to compare with the host's own and the operator's allowlist: IPv4 dotted,
 * an IPv4 reached through IPv6 (mapped, SIIT, NAT64, 6to4) as that IPv4, other IPv6 fully expanded.
 * Undefined for something that is not an IP address.
 */
export function canonicalAddress(address: string): string | undefined {
  const ip = bare(address);
  if (isIPv4(ip)) return intToV4(v4ToInt(ip));
  if (!isIPv6(ip)) return undefined;
  const words = expandV6(ip);
  if (!words) return undefined;
  const embedded = embeddedV4(words);
  if (embedded !== undefined) return intToV4(embedded);
  return words.map((w) => w.toString(16)).join(":");
}

function bare(address: string): string {
  return address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
}

function intToV4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".");
}

/**
 * IPv4 inside IPv6: mapped (::ffff:a.b.c.d), SIIT-translated (::ffff:0:a.b.c.d), NAT64 well-known prefix
 * (64:ff9b::/96) and 6to4 (2002::/16).
 */
function embeddedV4(w: number[]): number | undefined {
  const tail = ((w[6]! << 16) | w[7]!) >>> 0;
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) return tail;
  if (w.slice(0, 4).every((x) => x === 0) && w[4] === 0xffff && w[5] === 0) return tail;
  if (w[0] === 0x64 && w[1] === 0xff9b && w.slice(2, 6).every((x) => x === 0)) return tail;
  if (w[0] === 0x2002) return ((w[1]! << 16) | w[2]!) >>> 0;
  return undefined;
}

/** Whether an address lies in `net/bits` (both of one family; an embedded IPv4 counts as IPv4). */
export function inRange(address: string, net: string, bits: number): boolean {
  const a = canonicalAddress(address);
  const n = canonicalAddress(net);
  if (!a || !n) return false;
  if (isIPv4(a) !== isIPv4(n)) return false;
  if (isIPv4(a)) {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (v4ToInt(a) & mask) >>> 0 === (v4ToInt(n) & mask) >>> 0;
  }
  return inV6(expandV6(a)!, expandV6(n)!, bits);
}

function inV6(words: number[], net: number[], bits: number): boolean {
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const take = Math.min(16, bits);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((words[i]! & mask) !== (net[i]! & mask)) return false;
  }
  return true;
}

/** Eight 16-bit words, or undefined for something that is not IPv6. */
export function expandV6(ip: string): number[] | undefined {
  let text = ip.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v = v4ToInt(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(v >>> 16).toString(16)}:${(v & 0xffff).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return undefined;
  const words = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail].map((h) =>
    Number.parseInt(h, 16),
  );
  return words.length === 8 && words.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff)
    ? words
    : undefined;
}
