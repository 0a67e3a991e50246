import { type ChildProcess, spawn } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { once } from "node:events";
import { freePort } from "./free-port.ts";

/**
 * A real DNS server for a test: dnsmasq on 127.0.0.1:<port>, answering only the TXT records it is given
 * (no upstream, no /etc/hosts). `setTxt` restarts it on the same port with new records (dnsmasq reads
 * `--txt-record` only at start). Point Kiln at it with `KILN_DNS_SERVERS=<server>`.
 */
export interface DnsServer {
  /** `127.0.0.1:<port>`. */
  readonly server: string;
  setTxt(records: Record<string, string[]>): Promise<void>;
  stop(): Promise<void>;
}

const READY_NAME = "ready.kiln-test.invalid";

export async function startDnsServer(records: Record<string, string[]> = {}): Promise<DnsServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  let stderr = "";

  const start = async (txt: Record<string, string[]>) => {
    const args = [
      "--keep-in-foreground",
      "--no-resolv",
      "--no-hosts",
      "--no-poll",
      "--conf-file=/dev/null",
      "--pid-file",
      `--port=${port}`,
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      // Names under these are answered from the records alone: a missing one is NXDOMAIN, as on the Internet.
      "--local=/com/org/net/test/invalid/",
      `--txt-record=${READY_NAME},ready`,
    ];
    for (const [name, values] of Object.entries(txt))
      for (const value of values) args.push(`--txt-record=${name},${value}`);
    stderr = "";
    let failed: Error | undefined;
    child = spawn("dnsmasq", args, { stdio: ["ignore", "ignore", "pipe"] });
    child.on("error", (err) => (failed = err));
    child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
    const resolver = new Resolver({ timeout: 200, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    for (const until = Date.now() + 10_000; Date.now() < until; ) {
      if (failed)
        throw new Error(
          `dnsmasq could not start (${failed.message}): run scripts/setup-system.sh --e2e as root (dnsmasq-base)`,
        );
      if (child.exitCode !== null) throw new Error(`dnsmasq exited (${child.exitCode}): ${stderr}`);
      const ok = await resolver.resolveTxt(READY_NAME).then(
        () => true,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`dnsmasq did not answer on 127.0.0.1:${port}: ${stderr}`);
  };

  const stop = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, "exit");
    running.kill("SIGTERM");
    await exited;
  };

  await start(records);
  return {
    server: `127.0.0.1:${port}`,
    async setTxt(txt) {
      await stop();
      await start(txt);
    },
    stop,
  };
}
