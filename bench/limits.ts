/**
 * What the aggregate limits cost (packages/server/src/limits). In one run, p50/p90 of KILN_BENCH_RUNS
 * (default 20) runs of:
 *   - the disk meter (`measureDiskUsage`: `find` as the project's uid from a descriptor, inodes counted once)
 *     on workspaces of 1k, 10k and 50k entries, half of the files hard-linked from a root-owned "cache" as
 *     the dependency cache does (ADR 0007), against `du -s` by root on the same tree (the baseline);
 *   - one admission (`LiveSandboxes.admit` + release) with 1,000 sandboxes live on the replica.
 * Needs root (the meter switches uid).
 *
 *   npm exec -- node bench/limits.ts
 */
import { spawn } from "node:child_process";
import { chownSync, linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { measureDiskUsage } from "../packages/server/src/limits/disk-usage.ts";
import { LiveSandboxes } from "../packages/server/src/limits/live-sandboxes.ts";

const RUNS = Math.max(5, Number(process.env.KILN_BENCH_RUNS ?? 20));
const OWNER = { uid: 231_999, gid: 231_999 };

if (process.getuid?.() !== 0) {
  process.stdout.write("bench/limits: skipped (needs root to measure as a project's uid)\n");
  process.exit(0);
}

async function timed(fn: () => Promise<unknown> | unknown): Promise<{ p50: number; p90: number }> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const at = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!;
  return { p50: at(50), p90: at(90) };
}

function du(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("du", ["-s", "--block-size=1", dir], { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`du exited ${code}`))));
  });
}

/** A workspace of `entries` files in directories of 50, half of them links to root-owned cache files. */
function workspace(root: string, entries: number): string {
  const ws = path.join(root, `ws-${entries}`);
  const cache = path.join(root, `cache-${entries}`);
  mkdirSync(ws);
  mkdirSync(cache);
  for (let i = 0; i < entries; i++) {
    const dir = path.join(ws, `d${Math.floor(i / 50)}`);
    if (i % 50 === 0) {
      mkdirSync(dir);
      chownSync(dir, OWNER.uid, OWNER.gid);
    }
    const file = path.join(dir, `f${i}.js`);
    if (i % 2 === 0) {
      const shared = path.join(cache, `f${i}.js`);
      writeFileSync(shared, "module.exports = 1;\n".repeat(20));
      linkSync(shared, file);
    } else {
      writeFileSync(file, "export const x = 1;\n".repeat(20));
      chownSync(file, OWNER.uid, OWNER.gid);
    }
  }
  chownSync(ws, OWNER.uid, OWNER.gid);
  return ws;
}

const root = mkdtempSync(path.join(os.tmpdir(), "kiln-bench-limits-"));
const rows: string[][] = [];
try {
  for (const entries of [1_000, 10_000, 50_000]) {
    const ws = workspace(root, entries);
    const base = await timed(() => du(ws));
    const meter = await timed(() => measureDiskUsage(ws, OWNER));
    rows.push([`disk meter, ${entries} files`, ms(meter.p50), ms(meter.p90), ms(base.p50), "du -s (root)"]);
  }
  const live = new LiveSandboxes({
    sandboxesPerOrg: 0,
    terminalsPerOrg: 0,
    terminalsPerUser: 0,
    orgMemoryBytes: 0,
    orgCpus: 0,
  });
  for (let i = 0; i < 1000; i++) {
    live.admit({
      kind: "terminal",
      orgId: `o${i % 50}`,
      projectId: `p${i}`,
      userId: `u${i % 200}`,
      memoryBytes: 1,
      cpu: 1,
    });
  }
  const limited = new LiveSandboxes({
    sandboxesPerOrg: 100,
    terminalsPerOrg: 100,
    terminalsPerUser: 100,
    orgMemoryBytes: 1e15,
    orgCpus: 1e6,
  });
  for (let i = 0; i < 1000; i++) {
    limited.admit({
      kind: "terminal",
      orgId: `o${i % 50}`,
      projectId: `p${i}`,
      userId: `u${i % 200}`,
      memoryBytes: 1,
      cpu: 1,
    });
  }
  const claim = {
    kind: "terminal" as const,
    orgId: "o1",
    projectId: "p",
    userId: "u1",
    memoryBytes: 1,
    cpu: 1,
  };
  const off = await timed(() => live.admit(claim).release());
  const on = await timed(() => limited.admit(claim).release());
  rows.push(["admit + release, 1000 live", ms(on.p50), ms(on.p90), ms(off.p50), "all limits off"]);
} finally {
  rmSync(root, { recursive: true, force: true });
}

function ms(n: number): string {
  return n < 1 ? `${(n * 1000).toFixed(0)} µs` : `${n.toFixed(1)} ms`;
}

const header = ["what", "p50", "p90", "baseline p50", "baseline"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
for (const row of [header, ...rows]) {
  process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i]!)).join("  ")}\n`);
}
