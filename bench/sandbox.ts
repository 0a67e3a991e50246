/**
 * What a sandboxed command costs. In one run, p50/p90 of KILN_BENCH_RUNS (default 30) runs of:
 *   - bare `/bin/true` spawned from Node (the baseline: any process costs this),
 *   - bare `bwrap --unshare-all … true` with a minimal root (namespaces alone),
 *   - `LocalDriver.exec(['true'])`, network none (cgroups, staging mounts, the built root, cleanup),
 *   - the same with network egress (adds slirp4netns and the iptables filter),
 *   - `LocalDriver.exec(['node', '-e', ''])`, the shape of most real commands,
 *   - the first command of a project (cold: nothing made ahead yet; ADR 0020), none and egress.
 *
 *   npm exec -- node bench/sandbox.ts
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { LocalDriver } from "../packages/server/src/sandbox/local-driver.ts";

const RUNS = Math.max(20, Number(process.env.KILN_BENCH_RUNS ?? 30));

function spawnOnce(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(
  name: string,
  fn: () => Promise<void>,
): Promise<{ name: string; p50: number; p90: number }> {
  await fn(); // warm-up: page cache, first cgroup directory
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { name, p50: percentile(times, 50), p90: percentile(times, 90) };
}

const workspace = mkdtempSync(path.join(os.tmpdir(), "kiln-bench-sandbox-"));
const driver = new LocalDriver();
const check = await driver.check();
if (!check.ok) {
  process.stderr.write(`sandbox unavailable: ${check.problems.join("; ")}\n`);
  process.exit(1);
}
const spec = { projectId: "bench", workspaceDir: workspace };
const bwrapArgs = [
  "--unshare-all",
  "--die-with-parent",
  "--ro-bind",
  "/usr",
  "/usr",
  "--symlink",
  "usr/lib64",
  "/lib64",
  "--symlink",
  "usr/lib",
  "/lib",
  "--proc",
  "/proc",
  "--dev",
  "/dev",
  "/usr/bin/true",
];

const rows = [
  await measure("bare /bin/true (baseline)", () => spawnOnce("/bin/true", [])),
  await measure("bare bwrap --unshare-all true", () => spawnOnce("bwrap", bwrapArgs)),
  await measure("driver exec true (network none)", async () => {
    const r = await driver.exec(spec, { argv: ["true"] });
    if (r.exitCode !== 0) throw new Error(r.stderr);
  }),
  await measure("driver exec true (network egress)", async () => {
    const r = await driver.exec({ ...spec, network: "egress" }, { argv: ["true"] });
    if (r.exitCode !== 0) throw new Error(r.stderr);
  }),
  await measure("driver exec node -e '' (network none)", async () => {
    const r = await driver.exec(spec, { argv: ["node", "-e", ""] });
    if (r.exitCode !== 0) throw new Error(r.stderr);
  }),
  await measure("driver exec true, cold project (none)", async () => {
    const projectId = `bench-cold-${Math.random().toString(36).slice(2)}`;
    const r = await driver.exec({ ...spec, projectId }, { argv: ["true"] });
    if (r.exitCode !== 0) throw new Error(r.stderr);
    await driver.forget(projectId);
  }),
  await measure("driver exec true, cold project (egress)", async () => {
    const projectId = `bench-cold-${Math.random().toString(36).slice(2)}`;
    const r = await driver.exec({ ...spec, projectId, network: "egress" }, { argv: ["true"] });
    if (r.exitCode !== 0) throw new Error(r.stderr);
    await driver.forget(projectId);
  }),
];
driver.close();
rmSync(workspace, { recursive: true, force: true });

const base = rows[0]!.p50;
const bwrapBase = rows[1]!.p50;
process.stdout.write(
  `runs per row: ${RUNS}; load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}\n`,
);
process.stdout.write(
  `${"".padEnd(40)}${"p50 ms".padStart(10)}${"p90 ms".padStart(10)}${"× base".padStart(10)}${"× bwrap".padStart(10)}\n`,
);
for (const r of rows) {
  process.stdout.write(
    `${r.name.padEnd(40)}${r.p50.toFixed(1).padStart(10)}${r.p90.toFixed(1).padStart(10)}${(r.p50 / base).toFixed(1).padStart(10)}${(r.p50 / bwrapBase).toFixed(2).padStart(10)}\n`,
  );
}
