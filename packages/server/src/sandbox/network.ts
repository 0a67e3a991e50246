import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { createServer, isIP, connect as netConnect } from "node:net";
import os from "node:os";
import path from "node:path";
import type { EgressAllowEntry } from "@kiln/agent";
import type { NetworkPolicy } from "./driver.ts";

/** slirp4netns's fixed addresses inside the sandbox (its defaults for `--configure`). */
export const SLIRP_DNS = "10.0.2.3";

/**
 * Destinations a sandbox must never reach even with egress allowed: private networks (other tenants'
 * services, the cluster), carrier-grade NAT, link-local (cloud metadata at 169.254.169.254), loopback
 * and multicast/reserved space. The host's own addresses are added at run time.
 */
export const BLOCKED_RANGES = [
  "0.0.0.0/8",
  "10.0.0.0/8",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "224.0.0.0/4",
  "240.0.0.0/4",
];

export function hostAddresses(): string[] {
  const out = new Set<string>();
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4") out.add(`${a.address}/32`);
  }
  return [...out];
}

/**
 * The sandbox's OUTPUT chain, loaded into its network namespace from the host (the sandboxed user has
 * no CAP_NET_ADMIN there, so it cannot change it). Refused connections get a TCP reset at once
 * instead of hanging until a timeout, so tools fail fast and tests can tell our rule from the network.
 */
export function filterRules(policy: NetworkPolicy, allow: readonly EgressAllowEntry[] = []): string {
  const lines = [
    "*filter",
    ":INPUT ACCEPT [0:0]",
    ":FORWARD DROP [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    "-A OUTPUT -o lo -j ACCEPT",
    // Replies to connections that came in through an exposed port.
    "-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT",
  ];
  if (policy === "egress") {
    lines.push(`-A OUTPUT -d ${SLIRP_DNS}/32 -p udp --dport 53 -j ACCEPT`);
    lines.push(`-A OUTPUT -d ${SLIRP_DNS}/32 -p tcp --dport 53 -j ACCEPT`);
    // The operator's exemptions (KILN_EGRESS_ALLOW) that name addresses: the same policy as the server's
    // own fetches (address-policy.ts). Names cannot be matched here; the server checks those before it
    // starts a transfer, and a name's addresses stay under the rules below.
    lines.push(...allowRules(allow));
    for (const range of [...BLOCKED_RANGES, ...hostAddresses()]) {
      lines.push(`-A OUTPUT -d ${range} -p tcp -j REJECT --reject-with tcp-reset`);
      lines.push(`-A OUTPUT -d ${range} -j REJECT --reject-with icmp-admin-prohibited`);
    }
  } else {
    lines.push("-A OUTPUT -p tcp -j REJECT --reject-with tcp-reset");
    lines.push("-A OUTPUT -j REJECT --reject-with icmp-admin-prohibited");
  }
  lines.push("COMMIT", "");
  return lines.join("\n");
}

/** ACCEPT rules for the IPv4 addresses and ranges among `allow` (this filter is IPv4's). */
export function allowRules(allow: readonly EgressAllowEntry[]): string[] {
  const out: string[] = [];
  for (const entry of allow) {
    if (entry.kind === "range") {
      if (isIP(entry.net) === 4) out.push(`-A OUTPUT -d ${entry.net}/${entry.bits} -j ACCEPT`);
    } else if (isIP(entry.host) === 4) {
      const port = entry.port === undefined ? "" : ` -p tcp --dport ${entry.port}`;
      out.push(`-A OUTPUT -d ${entry.host}/32${port} -j ACCEPT`);
    }
  }
  return out;
}

export async function run(cmd: string, args: string[], input?: string): Promise<void> {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdin.on("error", () => {});
  child.stdin.end(input ?? "");
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${code}): ${stderr.trim()}`);
}

export async function installFilter(
  pid: number,
  policy: NetworkPolicy,
  tools: Tools,
  allow: readonly EgressAllowEntry[] = [],
): Promise<void> {
  await run(
    tools.nsenter,
    [`--net=/proc/${pid}/ns/net`, "--", tools.iptablesRestore],
    filterRules(policy, allow),
  );
}

export interface Tools {
  bwrap: string;
  slirp4netns: string;
  nsenter: string;
  iptablesRestore: string;
  setpriv: string;
  prlimit: string;
}

/** A slirp4netns attached to one sandbox's network namespace, with its API socket for port forwards. */
export class Slirp {
  readonly #child: ChildProcess;
  readonly #apiSocket: string;
  get child(): ChildProcess {
    return this.#child;
  }

  /** Resolves when slirp4netns has exited (killed, or its namespace gone). */
  readonly exited: Promise<void>;

  private constructor(child: ChildProcess, apiSocket: string) {
    this.#child = child;
    this.#apiSocket = apiSocket;
    this.exited =
      child.exitCode !== null || child.signalCode !== null
        ? Promise.resolve()
        : new Promise((resolve) => child.once("exit", () => resolve()));
  }

  /** `exitWithKiln`: slirp4netns ends when Kiln does (it watches a pipe only Kiln holds open). */
  static async start(
    pid: number,
    runDir: string,
    tools: Tools,
    options: { exitWithKiln?: boolean } = {},
  ): Promise<Slirp> {
    const apiSocket = path.join(runDir, `slirp-${pid}.sock`);
    const child = spawn(
      tools.slirp4netns,
      [
        "--configure",
        "--mtu=65520",
        // 10.0.2.2 would otherwise be the host's 127.0.0.1 (Postgres, Redis, Kiln itself).
        "--disable-host-loopback",
        "--api-socket",
        apiSocket,
        "--ready-fd=3",
        ...(options.exitWithKiln ? ["--exit-fd=4"] : []),
        // By pid, slirp4netns would first join the sandbox's user namespace, where it may not enter the
        // network namespace; by path it enters the netns directly with the host root's rights.
        "--netns-type=path",
        `/proc/${pid}/ns/net`,
        "tap0",
      ],
      { stdio: ["ignore", "ignore", "pipe", "pipe", ...(options.exitWithKiln ? ["pipe" as const] : [])] },
    );
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    for (const stream of child.stdio) stream?.on("error", () => {});
    const ready = child.stdio[3] as NodeJS.ReadableStream;
    await new Promise<void>((resolve, reject) => {
      ready.once("data", () => resolve());
      child.once("exit", (code) => reject(new Error(`slirp4netns exited (${code}): ${stderr.trim()}`)));
      child.once("error", reject);
    });
    return new Slirp(child, apiSocket);
  }

  async addHostForward(guestPort: number): Promise<number> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      const hostPort = await freePort();
      const reply = await this.#api({
        execute: "add_hostfwd",
        arguments: { proto: "tcp", host_addr: "127.0.0.1", host_port: hostPort, guest_port: guestPort },
      });
      if (!("error" in reply)) return hostPort;
      lastError = reply.error;
    }
    throw new Error(`slirp4netns could not forward port ${guestPort}: ${JSON.stringify(lastError)}`);
  }

  async #api(command: unknown): Promise<Record<string, unknown>> {
    const socket = netConnect(this.#apiSocket);
    await once(socket, "connect");
    socket.end(JSON.stringify(command));
    let text = "";
    for await (const chunk of socket) text += String(chunk);
    return JSON.parse(text) as Record<string, unknown>;
  }

  stop(): void {
    this.#child.kill("SIGKILL");
    rmSync(this.#apiSocket, { force: true });
  }
}

/** A loopback port free right now (another process may still take it before it is bound). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}
