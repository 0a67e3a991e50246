import { lookup as dnsLookup } from "node:dns/promises";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { canonicalAddress, inRange, isPublicAddress } from "./address-ranges.ts";

/**
 * The one rule for every connection the server opens to an address someone other than the operator chose
 * (an org's model provider, the agent's `web_fetch`, a redirect either of them follows): public unicast
 * only (address-ranges.ts), never an address of one of this host's own interfaces, unless the operator
 * allowed it (KILN_EGRESS_ALLOW). The check runs on the addresses a name resolves to, and the caller
 * connects to the address returned here (egress-fetch.ts pins it), so a DNS answer that changes between
 * check and connect (rebinding) cannot reach anything the check refused.
 */

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** An operator's exemption: a host (name or IP) with an optional port, or an address range. */
export type EgressAllowEntry =
  | { kind: "host"; host: string; port?: number }
  | { kind: "range"; net: string; bits: number };

export class EgressRefusedError extends Error {
  readonly code = "egress_refused";
  readonly host: string;

  constructor(host: string, message: string) {
    super(message);
    this.name = "EgressRefusedError";
    this.host = host;
  }
}

/** A name that does not resolve: not a refusal (it may resolve later), but nothing to connect to. */
export class EgressUnresolvedError extends Error {
  constructor(host: string, cause?: unknown) {
    super(`could not resolve ${host}`, { cause });
    this.name = "EgressUnresolvedError";
  }
}

export interface AddressPolicyOptions {
  /** The operator's exemptions. */
  allow?: readonly EgressAllowEntry[];
  /** DNS (tests map names to fixed addresses). */
  resolve?: Resolver;
  /** This host's addresses; asked on every check, since interfaces come and go (DHCP, VPNs, containers). */
  hostAddresses?: () => Iterable<string>;
}

const systemResolve: Resolver = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Every address of every interface of this host, as `canonicalAddress` spells them. */
export function hostInterfaceAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      const canonical = canonicalAddress(info.address);
      if (canonical) out.push(canonical);
    }
  }
  return out;
}

export class AddressPolicy {
  readonly #allow: readonly EgressAllowEntry[];
  readonly #resolve: Resolver;
  readonly #hostAddresses: () => Iterable<string>;

  constructor(options: AddressPolicyOptions = {}) {
    this.#allow = options.allow ?? [];
    this.#resolve = options.resolve ?? systemResolve;
    this.#hostAddresses = options.hostAddresses ?? hostInterfaceAddresses;
  }

  /** The same policy with more exemptions (an instance provider's own endpoint). */
  with(allow: readonly EgressAllowEntry[]): AddressPolicy {
    return new AddressPolicy({
      allow: [...this.#allow, ...allow],
      resolve: this.#resolve,
      hostAddresses: this.#hostAddresses,
    });
  }

  /**
   * The addresses `url` may be connected to: its host resolved once and every answer checked (one bad
   * answer refuses the name: which one the socket would pick is not ours to choose). The caller connects
   * to these and nothing else. Throws EgressRefusedError or EgressUnresolvedError.
   */
  async pin(url: URL): Promise<ResolvedAddress[]> {
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new EgressRefusedError(
        url.hostname,
        `only http and https URLs can be fetched, not ${url.protocol}`,
      );
    }
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
    const literal = isIP(host);
    const addresses: ResolvedAddress[] = literal
      ? [{ address: host, family: literal as 4 | 6 }]
      : await this.#resolve(host).catch((err: unknown) => {
          throw new EgressUnresolvedError(host, err);
        });
    if (addresses.length === 0) throw new EgressUnresolvedError(host);
    if (!literal && this.#allowsName(host, port)) return addresses;
    // Asked only when an address is public and not exempt: the only case it decides (listing the host's
    // interfaces was a quarter of a millisecond of every model call).
    let own: Set<string> | undefined;
    const hostAddresses = () => {
      own ??= new Set(this.#hostAddresses());
      return own;
    };
    for (const { address } of addresses) {
      const reason = this.refusal(address, port, hostAddresses);
      if (reason) {
        const subject = literal ? `${address} is` : `${host} resolves to ${address},`;
        throw new EgressRefusedError(host, `${subject} ${reason}; only public addresses can be fetched`);
      }
    }
    return addresses;
  }

  /** Why a connection to `address:port` is refused, or undefined when it is allowed. */
  refusal(
    address: string,
    port: number,
    own: () => Set<string> = () => new Set(this.#hostAddresses()),
  ): string | undefined {
    const canonical = canonicalAddress(address);
    if (!canonical) return "not an IP address";
    if (this.#allowsAddress(canonical, port)) return undefined;
    if (!isPublicAddress(canonical)) return "a private, loopback, link-local or otherwise internal address";
    if (own().has(canonical)) return "an address of this server itself";
    return undefined;
  }

  /** Whether the operator exempted this URL's host (by name, or an IP literal by address or range). */
  exempts(url: URL): boolean {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
    const canonical = isIP(host) ? canonicalAddress(host) : undefined;
    return canonical ? this.#allowsAddress(canonical, port) : this.#allowsName(host, port);
  }

  #allowsName(host: string, port: number): boolean {
    const name = host.toLowerCase().replace(/\.$/, "");
    return this.#allow.some(
      (e) => e.kind === "host" && e.host === name && (e.port === undefined || e.port === port),
    );
  }

  #allowsAddress(canonical: string, port: number): boolean {
    return this.#allow.some((e) =>
      e.kind === "range"
        ? inRange(canonical, e.net, e.bits)
        : e.host === canonical && (e.port === undefined || e.port === port),
    );
  }
}

/**
 * KILN_EGRESS_ALLOW: comma- or space-separated `host`, `host:port`, `[v6]:port`, `http(s)://host[:port]`
 * (the port the scheme implies) or `net/bits`. Throws an Error naming the first entry it cannot read.
 */
export function parseEgressAllow(text: string): EgressAllowEntry[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((raw) => {
      const entry = parseEntry(raw);
      if (!entry) throw new Error(`"${raw}" is not a host, host:port, URL or address range`);
      return entry;
    });
}

/** The exemption for one URL's host and port (an instance provider's configured base URL). */
export function allowEntryForUrl(url: URL): EgressAllowEntry {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const port = Number(url.port) || (url.protocol === "https:" ? 443 : 80);
  return { kind: "host", host: canonicalAddress(host) ?? host.toLowerCase().replace(/\.$/, ""), port };
}

function parseEntry(raw: string): EgressAllowEntry | undefined {
  if (raw.includes("://")) {
    try {
      const url = new URL(raw);
      return url.protocol === "http:" || url.protocol === "https:" ? allowEntryForUrl(url) : undefined;
    } catch {
      return undefined;
    }
  }
  const range = /^([^/]+)\/(\d{1,3})$/.exec(raw);
  if (range) {
    const net = canonicalAddress(range[1]!);
    const bits = Number(range[2]);
    // An IPv4 range written in IPv6 form would have its prefix counted in the wrong family.
    if (!net || isIP(range[1]!) !== isIP(net) || bits > (isIP(net) === 4 ? 32 : 128)) return undefined;
    return { kind: "range", net, bits };
  }
  if (isIP(raw)) return { kind: "host", host: canonicalAddress(raw)! };
  const withPort = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(raw);
  const host = withPort ? (withPort[1] ?? withPort[2]!) : raw;
  const port = withPort ? Number(withPort[3]) : undefined;
  if (port !== undefined && (port < 1 || port > 65_535)) return undefined;
  if (isIP(host)) return { kind: "host", host: canonicalAddress(host)!, ...(port ? { port } : {}) };
  if (withPort?.[1] || !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?\.?$/i.test(host)) return undefined;
  return { kind: "host", host: host.toLowerCase().replace(/\.$/, ""), ...(port ? { port } : {}) };
}
