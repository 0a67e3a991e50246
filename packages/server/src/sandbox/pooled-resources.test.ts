import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SandboxSpec } from "./driver.ts";
import { LocalDriver } from "./local-driver.ts";

/**
 * What the local driver keeps between a project's commands (idle cgroups, a warm egress network) must not
 * carry anything from one command to the next: no process, no limit, no OOM, no socket; and nothing of one
 * project reaches another. Real bubblewrap, cgroups v1 and slirp4netns, as root.
 */
const driver = new LocalDriver();
const root = mkdtempSync(path.join(os.tmpdir(), "kiln-pool-test-"));
const projectId = `pool-${randomBytes(3).toString("hex")}`;
const otherId = `pool-${randomBytes(3).toString("hex")}`;
const spec: SandboxSpec = {
  projectId,
  workspaceDir: path.join(root, "a"),
  limits: { wallClockMs: 20_000 },
};
const other: SandboxSpec = { ...spec, projectId: otherId, workspaceDir: path.join(root, "b") };
const CONTROLLERS = ["memory", "pids", "cpu"];

function sh(script: string, s: SandboxSpec = spec, limits = {}) {
  return driver.exec(s, { argv: ["/bin/sh", "-c", script], limits });
}

/** The project's cgroups as the kernel lists them, per controller. */
function groupsOf(id: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of CONTROLLERS) {
    const dir = `/sys/fs/cgroup/${c}/kiln`;
    out[c] = existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith(`${id}-`)) : [];
  }
  return out;
}

function procsOf(c: string, group: string): string {
  return readFileSync(`/sys/fs/cgroup/${c}/kiln/${group}/cgroup.procs`, "utf8");
}

/** Host processes running as `uid`, zombies aside. */
function hostProcessesOf(uid: number): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      if (/^State:\s+Z/m.test(status)) continue;
      if (new RegExp(`^Uid:\\s+${uid}\\s`, "m").test(status)) out.push(`${pid} ${status.split("\n")[0]}`);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Uids of the processes in a group (a standby wrapper is root until its command arrives). */
function uidsIn(c: string, group: string): number[] {
  return procsOf(c, group)
    .split("\n")
    .filter(Boolean)
    .map((pid) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]));
}

/**
 * Waits for the steady state after a command: two groups, the one it used back in the pool (empty) and the
 * one the next command's standby wrapper waits in (a single root process).
 */
async function settled(id: string): Promise<{ idle: string; standby: string }> {
  for (let i = 0; i < 300; i++) {
    const all = groupsOf(id).pids ?? [];
    const idle = driver.idleCgroups(id);
    const standby = all.find((g) => !idle.includes(g));
    if (
      all.length === 2 &&
      idle.length === 1 &&
      standby &&
      procsOf("pids", idle[0]!) === "" &&
      uidsIn("pids", standby).join() === "0"
    ) {
      return { idle: idle[0]!, standby };
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`not settled for ${id}: ${JSON.stringify(groupsOf(id))} idle ${driver.idleCgroups(id)}`);
}

beforeAll(async () => {
  mkdirSync(spec.workspaceDir, { recursive: true });
  mkdirSync(other.workspaceDir, { recursive: true });
  const check = await driver.check();
  expect(check.problems).toEqual([]);
});

afterAll(async () => {
  await driver.forget(projectId);
  await driver.forget(otherId);
  driver.close();
  rmSync(root, { recursive: true, force: true });
});

describe("pooled cgroups", () => {
  it("reuse the same groups, with nothing left in them from the previous command", async () => {
    const uid = driver.workspaceOwner(projectId)!.uid;
    // Tries hard to outlive its command: a daemon in a new session, a double fork, ignoring SIGHUP.
    const first = await sh("setsid sleep 1000 & (nohup sleep 1000 >/dev/null 2>&1 &) ; echo started");
    expect(first.stdout.trim()).toBe("started");
    const before = await settled(projectId);
    expect(hostProcessesOf(uid)).toEqual([]);
    for (const c of CONTROLLERS) {
      expect(procsOf(c, before.idle), c).toBe("");
      expect(uidsIn(c, before.standby), c).toEqual([0]);
    }
    // The next command runs in one of those same groups and sees no process but its own.
    const second = await sh("ps -e -o comm= | tr '\\n' ' '");
    expect(second.exitCode).toBe(0);
    expect(second.stdout).not.toContain("sleep");
    const after = await settled(projectId);
    expect([after.idle, after.standby].sort()).toEqual([before.idle, before.standby].sort());
  });

  it("gives each command exactly its own limits: lowered again after a command with higher ones", async () => {
    const raised = await sh("echo ok", spec, { maxProcesses: 1000, memoryBytes: 2 * 1024 ** 3, cpu: 2 });
    expect(raised.exitCode).toBe(0);
    await settled(projectId);
    // 40 sleeps under a limit of 16 processes, in a group that last had 1000: the fork fails.
    const bounded = await sh("for i in $(seq 40); do sleep 5 & done; wait", spec, {
      maxProcesses: 16,
      wallClockMs: 10_000,
    });
    expect(bounded.stderr).toMatch(/Cannot fork|Resource temporarily unavailable/);
    const used = (await settled(projectId)).idle;
    expect(readFileSync(`/sys/fs/cgroup/pids/kiln/${used}/pids.max`, "utf8").trim()).toBe("16");
    // …and the defaults come back with a command that does not ask for more.
    await sh("true");
    const next = (await settled(projectId)).idle;
    expect(readFileSync(`/sys/fs/cgroup/pids/kiln/${next}/pids.max`, "utf8").trim()).toBe("256");
    expect(readFileSync(`/sys/fs/cgroup/memory/kiln/${next}/memory.limit_in_bytes`, "utf8").trim()).toBe(
      String(1024 ** 3),
    );
    expect(readFileSync(`/sys/fs/cgroup/cpu/kiln/${next}/cpu.cfs_quota_us`, "utf8").trim()).toBe("100000");
  });

  it("reports an OOM kill for the command it happened in only", async () => {
    const hog = await driver.exec(spec, {
      argv: ["node", "-e", "const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))"],
      limits: { memoryBytes: 128 * 1024 * 1024, wallClockMs: 20_000 },
    });
    expect(hog.oomKilled).toBe(true);
    // Both groups get used next: the standby's (made with the hog's 128 MiB, raised back to 1 GiB, memsw
    // first) and then the hog's own (its OOM count belongs to the hog). 300 MB fits, no OOM reported.
    for (let i = 0; i < 2; i++) {
      await settled(projectId);
      const next = await driver.exec(spec, {
        argv: ["node", "-e", "const b=Buffer.alloc(300*1024*1024,1);console.log(b.length)"],
      });
      expect(next.exitCode, next.stderr).toBe(0);
      expect(next.oomKilled).toBe(false);
    }
  });

  it("never lends a project's group to another project", async () => {
    await sh("true", other);
    const mine = await settled(projectId);
    const theirs = await settled(otherId);
    for (const g of [theirs.idle, theirs.standby]) {
      expect(g.startsWith(`${otherId}-`)).toBe(true);
      expect([mine.idle, mine.standby]).not.toContain(g);
    }
  });

  it("runs parallel commands of one project in separate groups, and keeps a few for later", async () => {
    const runs = await Promise.all(Array.from({ length: 6 }, () => sh("echo ok", spec)));
    expect(runs.map((r) => r.stdout.trim())).toEqual(Array(6).fill("ok"));
    const uid = driver.workspaceOwner(projectId)!.uid;
    for (
      let i = 0;
      i < 300 && driver.idleCgroups(projectId).length + 1 < (groupsOf(projectId).pids?.length ?? 0);
      i++
    ) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(driver.idleCgroups(projectId).length).toBeLessThanOrEqual(4);
    for (const g of groupsOf(projectId).pids ?? []) expect(uidsIn("pids", g)).not.toContain(uid);
  });

  it("are removed with the standby wrapper when the project is forgotten", async () => {
    await driver.forget(projectId);
    for (const [c, list] of Object.entries(groupsOf(projectId))) expect(list, c).toEqual([]);
    // …and a new command simply makes new ones.
    expect((await sh("echo again")).stdout.trim()).toBe("again");
  });
});

describe("warm egress network", () => {
  /** Node one-liner: connect to 127.0.0.1:port and print how it ended. */
  const connect = (port: number) =>
    `node -e "const s=require('net').connect(${port},'127.0.0.1');s.setTimeout(2000,()=>{console.log('TIMEOUT');process.exit()});s.on('connect',()=>{console.log('CONNECTED');process.exit()});s.on('error',e=>{console.log(e.code);process.exit()})"`;
  const egress = { ...spec, network: "egress" as const };
  const otherEgress = { ...other, network: "egress" as const };

  it("a listener a command leaves behind is gone for the next command", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const first = await sh(
      `(setsid node -e "require('net').createServer(()=>{}).listen(${port},'127.0.0.1')" &) ; sleep 0.5; ${connect(port)}`,
      egress,
    );
    expect(first.stdout.trim()).toBe("CONNECTED");
    const second = await sh(connect(port), egress);
    expect(second.stdout.trim()).toBe("ECONNREFUSED");
  });

  it("another project's egress command cannot reach a project's running listener", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const server = sh(
      `node -e "const s=require('net').createServer(c=>c.end('hi')).listen(${port},'127.0.0.1');setTimeout(()=>s.close(),4000)"`,
      egress,
    );
    await new Promise((r) => setTimeout(r, 1000));
    const probe = await sh(connect(port), otherEgress);
    expect(probe.stdout.trim()).toBe("ECONNREFUSED");
    await server;
  });

  it("keeps the filter: private addresses refused, and the sandbox cannot flush it", async () => {
    const flush = await sh("iptables -F OUTPUT 2>&1 || echo REFUSED", egress);
    expect(flush.stdout).toContain("REFUSED");
    const js = `const s=require('net').connect(80,'169.254.169.254');s.setTimeout(3000,()=>{console.log('TIMEOUT');process.exit()});s.on('connect',()=>{console.log('CONNECTED');process.exit()});s.on('error',e=>{console.log(e.code);process.exit()})`;
    const probe = await sh(`node -e "${js}"`, egress);
    expect(probe.stdout.trim()).toBe("ECONNREFUSED");
  });

  it("leaves no descriptor of the namespace to the sandbox", async () => {
    const r = await sh("ls /proc/self/fd | tr '\\n' ' '", egress);
    // ls's own: 0-2 and the directory it lists.
    expect(r.stdout.trim().split(" ").map(Number).sort()).toEqual([0, 1, 2, 3]);
  });
});

describe("standby wrapper", () => {
  it("is not used for a workspace replaced since it was started: the command sees the new directory", async () => {
    const s2: SandboxSpec = {
      ...spec,
      projectId: `pool-${randomBytes(3).toString("hex")}`,
      workspaceDir: path.join(root, "c"),
    };
    mkdirSync(s2.workspaceDir, { recursive: true });
    writeFileSync(path.join(s2.workspaceDir, "marker"), "old");
    expect((await sh("cat /workspace/marker", s2)).stdout).toBe("old");
    await settled(s2.projectId);
    // The directory is swapped for another one at the same path while a wrapper waits with the old mounted.
    renameSync(s2.workspaceDir, `${s2.workspaceDir}.old`);
    mkdirSync(s2.workspaceDir);
    writeFileSync(path.join(s2.workspaceDir, "marker"), "new");
    expect((await sh("cat /workspace/marker", s2)).stdout).toBe("new");
    await driver.forget(s2.projectId);
  });

  it("leaves the sandbox no descriptor but its stdio, and its arguments file out of reach", async () => {
    const r = await sh("ls /proc/self/fd | tr '\\n' ' '; echo; ls -d /tmp/kiln-runtime-* 2>&1 | head -1");
    expect(r.stdout.split("\n")[0]!.trim().split(" ").map(Number).sort()).toEqual([0, 1, 2, 3]);
    expect(r.stdout).toContain("No such file");
  });
});

describe("prepared /etc", () => {
  it("holds Kiln's files, the host's listed ones and nothing else; resolv.conf per network policy", async () => {
    const none = await sh("ls -A /etc | tr '\\n' ' '; echo; cat /etc/resolv.conf; grep -c . /etc/passwd");
    const [names, ...rest] = none.stdout.split("\n");
    expect(names!.trim().split(" ").sort()).toEqual(
      [
        "alternatives",
        "ca-certificates",
        "ca-certificates.conf",
        "group",
        "hostname",
        "hosts",
        "ld.so.cache",
        "localtime",
        "mime.types",
        "nsswitch.conf",
        "passwd",
        "protocols",
        "resolv.conf",
        "services",
        "ssl",
      ].filter(
        (n) =>
          ["group", "hostname", "hosts", "nsswitch.conf", "passwd", "resolv.conf"].includes(n) ||
          existsSync(`/etc/${n}`),
      ),
    );
    expect(rest.join("\n")).not.toContain("nameserver");
    expect((await sh("cat /etc/resolv.conf", { ...spec, network: "egress" })).stdout).toContain(
      "nameserver 10.0.2.3",
    );
    // Read-only, and no secret of the host's.
    const w = await sh(
      "echo x > /etc/passwd 2>&1 || echo REFUSED; ls /etc/ssl; cat /etc/shadow 2>&1 | head -1",
    );
    expect(w.stdout).toContain("REFUSED");
    expect(w.stdout).not.toContain("private");
    expect(w.stdout).toContain("No such file");
  });
});
