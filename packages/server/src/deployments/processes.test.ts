import http from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import type { SandboxDriver, SandboxProcess } from "../sandbox/driver.ts";
import { SiteProcesses, type SiteRef } from "./processes.ts";

/**
 * The published servers' supervisor against a driver whose "processes" are real HTTP servers on loopback:
 * what it starts, when it restarts, when it gives up, idles and switches deployments. (The real sandbox is
 * deployments.int.test.ts's.)
 */

interface Fake {
  exit(code?: number): void;
  killed: boolean;
  deployment: string;
}

let processes: SiteProcesses | undefined;
const servers: http.Server[] = [];
afterEach(async () => {
  await processes?.close();
  for (const s of servers.splice(0)) s.close();
});

function setup(options: { healthy?: () => boolean; idleMs?: number } = {}) {
  const started: Fake[] = [];
  const driver = {
    async spawn(spec: { workspaceDir: string }): Promise<SandboxProcess> {
      let settle!: (exit: {
        exitCode: number | null;
        signal: NodeJS.Signals | null;
        oomKilled: boolean;
      }) => void;
      const exited = new Promise<Parameters<typeof settle>[0]>((r) => {
        settle = r;
      });
      const server = http.createServer((_req, res) => {
        res.writeHead(options.healthy?.() === false ? 500 : 200).end(spec.workspaceDir);
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const fake: Fake = {
        killed: false,
        deployment: spec.workspaceDir,
        exit(code = 1) {
          server.close();
          settle({ exitCode: code, signal: null, oomKilled: false });
        },
      };
      started.push(fake);
      return {
        pid: 1000 + started.length,
        stdout: new PassThrough(),
        stderr: new PassThrough(),
        exposePort: async () => ({ host: "127.0.0.1", port: (server.address() as AddressInfo).port }),
        async kill() {
          fake.killed = true;
          server.close();
          settle({ exitCode: null, signal: "SIGKILL", oomKilled: false });
        },
        exited,
      };
    },
  } as unknown as SandboxDriver;
  processes = new SiteProcesses({
    driverFor: () => driver,
    sandboxFor: async (site, runDir) => ({ projectId: site.projectId, workspaceDir: runDir }),
    runDir: async (site) => site.deploymentId,
    idleMs: options.idleMs ?? 60_000,
    startWaitMs: 1_000,
    maxRestarts: 3,
  });
  return { started, processes };
}

const site = (deploymentId: string): SiteRef => ({
  orgId: "o",
  projectId: "p",
  deploymentId,
  manifest: { files: {}, spa: false },
  server: { argv: ["node", "server.js"], health: "/health" },
});

describe("SiteProcesses", () => {
  it("starts on the first request and answers once healthy; one process for many requests", async () => {
    const { started, processes } = setup();
    const [a, b] = await Promise.all([processes.target(site("d1")), processes.target(site("d1"))]);
    expect(a.state).toBe("ready");
    expect(b).toEqual(a);
    expect(started).toHaveLength(1);
  });

  it("restarts a crashed server, and gives up after too many crashes in a minute", async () => {
    const { started, processes } = setup();
    await processes.target(site("d1"));
    for (let i = 0; i < 3; i++) {
      started.at(-1)!.exit();
      await expect.poll(() => started.length, { timeout: 10_000 }).toBe(i + 2);
      await expect.poll(async () => (await processes.target(site("d1"))).state).toBe("ready");
    }
    started.at(-1)!.exit();
    await new Promise((r) => setTimeout(r, 2_500));
    expect(started).toHaveLength(4);
    expect(await processes.target(site("d1"))).toMatchObject({ state: "crashed" });
  });

  it("reports one that never gets healthy as starting, not ready", async () => {
    const { processes } = setup({ healthy: () => false });
    const waiting = processes.target(site("d1"));
    expect((await waiting).state).toBe("starting");
  }, 10_000);

  it("switches to a new deployment (the old process is killed), stops when idle, starts again on demand", async () => {
    const { started, processes } = setup({ idleMs: 50 });
    await processes.target(site("d1"));
    expect((await processes.target(site("d2"))).state).toBe("ready");
    expect(started.map((s) => [s.deployment, s.killed])).toEqual([
      ["d1", true],
      ["d2", false],
    ]);
    // Its own timer sweeps it away once idle; the next request starts it again.
    await expect.poll(() => started[1]!.killed).toBe(true);
    expect(processes.pidOf("p")).toBeUndefined();
    expect((await processes.target(site("d2"))).state).toBe("ready");
    expect(started).toHaveLength(3);
  });
});
