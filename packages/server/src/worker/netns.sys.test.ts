import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { Job } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/free-port.ts";
import { uniqueEmail, uniqueSlug } from "../testing/harness.ts";
import {
  type ApiClient,
  freshDatabase,
  type ServerProcess,
  signUp,
  startServerProcess,
  startWorkerProcess,
  type WorkerProcess,
} from "../testing/processes.ts";

/**
 * The multi-host path on one machine: `kiln worker` runs in a network namespace of its own, joined to the
 * host by a veth pair on a private /30, so it reaches the server only at the server's address — as a worker
 * on another host would — and its agent sandbox (bubblewrap, slirp4netns) runs in there too.
 */

const WORKER_TOKEN = randomBytes(24).toString("hex");

function which(cmd: string): string | undefined {
  for (const dir of ["/usr/sbin", "/sbin", ...(process.env.PATH ?? "").split(":")]) {
    const r = spawnSync("test", ["-x", path.join(dir, cmd)]);
    if (r.status === 0) return path.join(dir, cmd);
  }
  return undefined;
}

const IP = which("ip");
const NSENTER = which("nsenter");
const skipReason =
  process.getuid?.() !== 0
    ? "needs root to create network namespaces"
    : !IP
      ? "needs `ip` (Debian package iproute2; scripts/setup-system.sh --e2e installs it)"
      : !NSENTER
        ? "needs `nsenter` (Debian package util-linux)"
        : undefined;

function ip(...args: string[]): string {
  return execFileSync(IP!, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * Runs a command in the namespace's network only. Not `ip netns exec`: that also remounts /sys in a mount
 * namespace of its own, which drops the cgroup v1 hierarchies under /sys/fs/cgroup, so the worker's
 * sandboxes would fall back to rlimits — unlike a worker on another host, which has its own cgroups.
 */
function inNs(n: Netns): string[] {
  return [NSENTER!, `--net=/run/netns/${n.ns}`, "--"];
}

/** A namespace with `nsAddress` (<net>.2/30) on its end of a veth pair, `hostAddress` (<net>.1/30) on `hostIf`. */
interface Netns {
  ns: string;
  hostIf: string;
  hostAddress: string;
  nsAddress: string;
}

/** Picks an unused 10.213.<x>.0/30 and names, so runs side by side on one machine do not clash. */
function createNetns(): Netns {
  const taken = ip("-4", "-o", "addr", "show") + ip("-o", "link", "show");
  for (let tries = 0; tries < 20; tries++) {
    const x = randomInt(1, 255);
    const n: Netns = {
      ns: `kiln-sys-${x}`,
      hostIf: `kiln${x}h`,
      hostAddress: `10.213.${x}.1`,
      nsAddress: `10.213.${x}.2`,
    };
    const nsIf = `kiln${x}n`;
    if (taken.includes(`10.213.${x}.`) || new RegExp(`: (${n.hostIf}|${nsIf})[@:]`).test(taken)) continue;
    // Taken by another run since the listing: try another.
    if (spawnSync(IP!, ["netns", "add", n.ns], { stdio: "ignore" }).status !== 0) continue;
    created = n;
    ip("link", "add", n.hostIf, "type", "veth", "peer", "name", nsIf);
    ip("link", "set", nsIf, "netns", n.ns);
    ip("addr", "add", `${n.hostAddress}/30`, "dev", n.hostIf);
    ip("link", "set", n.hostIf, "up");
    ip("-n", n.ns, "addr", "add", `${n.nsAddress}/30`, "dev", nsIf);
    ip("-n", n.ns, "link", "set", nsIf, "up");
    ip("-n", n.ns, "link", "set", "lo", "up");
    return n;
  }
  throw new Error("no free 10.213.x.0/30 for the test's network namespace");
}

function removeNetns(n: Netns): void {
  // Deleting the namespace takes its end of the veth pair, and with it the host's end.
  for (const args of [
    ["netns", "del", n.ns],
    ["link", "del", n.hostIf],
  ]) {
    spawnSync(IP!, args, { stdio: "ignore" });
  }
}

/** What a TCP connect from inside the namespace to `host:port` gets: "connected" or the error code. */
function connectFromNs(n: Netns, host: string, port: number): string {
  const script = `const s=require("node:net").connect(${port},${JSON.stringify(host)});s.setTimeout(5000,()=>{console.log("ETIMEDOUT");process.exit()});s.on("connect",()=>{console.log("connected");s.destroy()});s.on("error",(e)=>console.log(e.code))`;
  const [cmd, ...args] = inNs(n);
  return execFileSync(cmd!, [...args, process.execPath, "-e", script], { encoding: "utf8" }).trim();
}

let created: Netns | undefined;
let db: Awaited<ReturnType<typeof freshDatabase>> | undefined;
let fake: FakeProvider | undefined;
let server: ServerProcess | undefined;
let worker: WorkerProcess | undefined;
let dataDir: string | undefined;

describe.skipIf(skipReason !== undefined)(
  `a worker in another network namespace${skipReason ? ` (skipped: ${skipReason})` : ""}`,
  () => {
    let net: Netns;
    let port: number;
    let owner: ApiClient;
    let org: string;

    beforeAll(async () => {
      net = createNetns();
      db = await freshDatabase();
      fake = await startFakeProvider();
      port = await freePort();
      dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-sys-netns-"));
      server = await startServerProcess({
        dataDir,
        port,
        // Only on the veth address: not on loopback, so nothing can reach it "by accident" through 127.0.0.1.
        host: net.hostAddress,
        env: {
          DATABASE_URL: db.url,
          KILN_EMBEDDED_WORKERS: "0",
          KILN_WORKER_TOKEN: WORKER_TOKEN,
          // The URLs handed to workers (git clone, model proxy) are built from this.
          KILN_PUBLIC_URL: `http://${net.hostAddress}:${port}`,
          OPENAI_BASE_URL: `${fake.url}/v1`,
          OPENAI_API_KEY: "fake-key",
          KILN_MODEL: "openai/fake-model",
        },
      });
      owner = await signUp(server.url, uniqueEmail("netns"));
      org = uniqueSlug("org");
      expect((await owner.call("POST", "/api/orgs", { name: "Far away", slug: org })).status).toBe(201);
    }, 120_000);

    afterAll(async () => {
      await worker?.stop("SIGKILL");
      await server?.stop();
      await fake?.close();
      await db?.drop();
      if (created) removeNetns(created);
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    });

    it("reaches the server only at its address, and still completes a job with its branch pushed", async () => {
      // Inside the namespace, loopback is the namespace's own: the server is not there.
      expect(connectFromNs(net, "127.0.0.1", port)).toBe("ECONNREFUSED");
      expect(connectFromNs(net, net.hostAddress, port)).toBe("connected");

      worker = await startWorkerProcess({
        prefix: inNs(net),
        server: `http://${net.hostAddress}:${port}`,
        token: WORKER_TOKEN,
        workDir: path.join(dataDir!, "worker"),
        name: "in-netns",
      });
      // The process really is in the namespace, and its agent sandbox works in there.
      expect(ip("netns", "pids", net.ns).split("\n")).toContain(String(worker.pid));
      // Its sandbox is as complete in there as the server's on the host (same checks, same warnings).
      const sandbox = /^kiln worker: (Sandbox: .*)$/m.exec(worker.output())?.[1];
      expect(sandbox).toMatch(/^Sandbox: local/);
      expect(sandbox).toBe(/^ {2}(Sandbox: .*)$/m.exec(server!.output())?.[1]);

      const project = (
        await owner.call("POST", `/api/orgs/${org}/projects`, { name: "Remote", template: "static" })
      ).json;
      fake!.enqueue(
        {
          toolCalls: [
            { name: "write_file", arguments: { path: "remote.txt", content: "written far away\n" } },
          ],
        },
        // A command in the agent's sandbox, inside the namespace.
        { toolCalls: [{ name: "bash", arguments: { command: "cat remote.txt && id -u" } }] },
        { text: "Wrote remote.txt from another network." },
      );
      const started = await owner.call("POST", `/api/orgs/${org}/projects/${project.slug}/jobs`, {
        kind: "implement",
        instructions: "Write remote.txt",
      });
      expect(started.status).toBe(201);
      const jobId: string = started.json.id;
      const end = Date.now() + 60_000;
      let job: Job | undefined;
      while (Date.now() < end) {
        job = (await owner.call("GET", `/api/orgs/${org}/jobs/${jobId}`)).json;
        if (job && ["completed", "failed", "cancelled"].includes(job.state)) break;
        await new Promise((r) => setTimeout(r, 150));
      }
      const logs = `${worker.output()}\n---\n${server!.output()}`;
      expect(job?.failure, logs).toBeNull();
      expect(job?.state, logs).toBe("completed");
      expect(job!.workerId).toBe(worker.workerId);
      expect(job!.result).toMatchObject({
        summary: "Wrote remote.txt from another network.",
        branch: `kiln/job-${jobId}`,
      });

      // The sandboxed command ran (as the project's own uid, not root) and saw the agent's file.
      const events = (await owner.call("GET", `/api/orgs/${org}/jobs/${jobId}/events`)).json as Array<{
        event: { type: string; event?: { type: string; toolName?: string; output?: string } };
      }>;
      const bash = events.find(
        (e) =>
          e.event.type === "agent" &&
          e.event.event?.type === "tool-call-end" &&
          e.event.event.toolName === "bash",
      );
      expect(bash?.event.event?.output).toContain("written far away");
      expect(bash?.event.event?.output).not.toMatch(/^0$/m);

      // The branch was pushed into the project's repository on the server, with the file; main is untouched.
      const orgId = (await owner.call("GET", `/api/orgs/${org}`)).json.id;
      const repo = path.join(dataDir!, "orgs", orgId, "projects", project.id);
      const git = (...args: string[]) =>
        execFileSync("git", ["-c", `safe.directory=${repo}`, "-C", repo, ...args], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
        });
      expect(git("rev-parse", `refs/heads/kiln/job-${jobId}`).trim()).toBe(job!.result!.commit);
      expect(git("show", `kiln/job-${jobId}:remote.txt`)).toBe("written far away\n");
      expect(() => git("show", "main:remote.txt")).toThrow();
    });
  },
);
