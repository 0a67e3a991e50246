import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { OWNER_TAG, orphaned, ownedName, sweepOrphans } from "./cgroup-owner.ts";
import { LocalDriver } from "./local-driver.ts";

/**
 * A Kiln process that dies before its sandbox arms its parent-death signal leaves that sandbox running.
 * Real cgroups v1 as root: a process is put into groups named as a dead owner's would be, and the sweep
 * (run by every local driver when it starts and every few seconds) must end it; groups of live owners,
 * of other pid namespaces and of older Kilns are not touched.
 */
const CONTROLLERS = ["memory", "pids", "cpu"];
const root = process.getuid?.() === 0 && existsSync("/sys/fs/cgroup/pids");
const [ns, pid, start] = OWNER_TAG.split(".").map(Number) as [number, number, number];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill("SIGKILL");
});

/** A `sleep` in new groups called `name` under every controller. */
async function sleeperIn(name: string): Promise<ChildProcess> {
  const child = spawn("sleep", ["600"], { stdio: "ignore" });
  children.push(child);
  await new Promise((resolve) => child.once("spawn", resolve));
  for (const c of CONTROLLERS) {
    mkdirSync(`/sys/fs/cgroup/${c}/kiln/${name}`, { recursive: true });
    writeFileSync(`/sys/fs/cgroup/${c}/kiln/${name}/cgroup.procs`, String(child.pid));
  }
  return child;
}

const alive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;
const groupExists = (name: string) => CONTROLLERS.some((c) => existsSync(`/sys/fs/cgroup/${c}/kiln/${name}`));

async function removeGroup(name: string): Promise<void> {
  const { CgroupV1 } = await import("./cgroup.ts");
  await new CgroupV1(name).destroy();
}

describe("tags", () => {
  it("judges only tagged groups of this pid namespace, by pid and start time", () => {
    expect(orphaned(ownedName("p-1"))).toBe(false);
    // The same pid with another start time: the pid was reused, the owner is gone.
    expect(orphaned(`p-1~o${ns}.${pid}.${start + 1}`)).toBe(true);
    expect(orphaned(`p-1~o${ns}.4194303.1`)).toBe(true);
    // Another pid namespace (another container on the host): its owners cannot be seen from here.
    expect(orphaned(`p-1~o${ns + 1}.4194303.1`)).toBe(false);
    // An older Kiln's group, and names that only look like tags.
    for (const name of ["p-1", "p-1~o", "p-1~o1.2", "p-1~o../..", `p-1~o${ns}.x.1`, "~o~o"]) {
      expect(orphaned(name), name).toBe(false);
    }
  });
});

describe.skipIf(!root)("the sweep, on the host's cgroups", () => {
  it("a new driver ends what runs in a dead owner's groups and removes them; live and foreign ones stay", async () => {
    const id = randomBytes(4).toString("hex");
    const dead = `sweep-${id}-a~o${ns}.${pid}.${start + 1}`;
    const live = ownedName(`sweep-${id}-b`);
    const foreign = `sweep-${id}-c~o${ns + 1}.1.1`;
    const untagged = `sweep-${id}-d`;
    const orphan = await sleeperIn(dead);
    const others = await Promise.all([live, foreign, untagged].map(sleeperIn));
    let told = 0;
    const driver = new LocalDriver({ onOrphansEnded: (n) => (told += n) });
    try {
      for (let i = 0; i < 500 && (alive(orphan) || groupExists(dead)); i++) await sleep(10);
      expect(alive(orphan)).toBe(false);
      expect(orphan.signalCode).toBe("SIGKILL");
      expect(groupExists(dead)).toBe(false);
      expect(told).toBeGreaterThanOrEqual(1);
      for (const c of others) expect(alive(c)).toBe(true);
      expect((await sweepOrphans()).filter((n) => n.startsWith(`sweep-${id}`))).toEqual([]);
    } finally {
      driver.close();
      for (const c of others) c.kill("SIGKILL");
      await Promise.all([live, foreign, untagged].map(removeGroup));
    }
  });

  it("a killed Kiln's sandbox is gone within a sweep even when it outlived its parent", async () => {
    // A child Kiln process runs `sleep` in a sandbox and is killed with -9. Whether the parent-death
    // signal fired or the race left an orphan, nothing of the sandbox may run on after a sweep.
    const marker = `sleep 31${randomBytes(2).readUInt16BE() % 1000}.5`;
    const workspaceDir = mkdtempSync(path.join(os.tmpdir(), "kiln-orphan-"));
    // The command comes through the environment: the child's own command line must not match `marker`.
    const script = `
      import { LocalDriver } from ${JSON.stringify(new URL("./local-driver.ts", import.meta.url).pathname)};
      const driver = new LocalDriver();
      void driver.exec({ projectId: "orphan-test", workspaceDir: process.env.WS, limits: { wallClockMs: 600000 } },
        { argv: ["/bin/sh", "-c", process.env.CMD] });
    `;
    const kiln = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: "ignore",
      env: { ...process.env, WS: workspaceDir, CMD: `${marker}; true` },
    });
    children.push(kiln);
    const running = () => pgrep(marker);
    for (let i = 0; i < 1000 && (await running()).length === 0; i++) await sleep(20);
    expect((await running()).length).toBeGreaterThan(0);
    kiln.kill("SIGKILL");
    await sweepOrphans();
    for (let i = 0; i < 200 && (await running()).length > 0; i++) await sleep(20);
    expect(await running()).toEqual([]);
    rmSync(workspaceDir, { recursive: true, force: true });
  });
});

async function pgrep(needle: string): Promise<string[]> {
  const child = spawn("pgrep", ["-f", needle], { stdio: ["ignore", "pipe", "ignore"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  await new Promise((resolve) => child.once("close", resolve));
  return out.split("\n").filter((l) => l && Number(l) !== process.pid);
}
