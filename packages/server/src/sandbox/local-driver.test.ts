import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SandboxProcess, SandboxSpec } from "./driver.ts";
import { LocalDriver } from "./local-driver.ts";

/**
 * Escape tests on the real sandbox (bubblewrap + cgroups + slirp4netns + iptables, as root). CI
 * installs what they need (scripts/setup-system.sh); a host that cannot sandbox fails here loudly.
 */
const driver = new LocalDriver();
const root = mkdtempSync(path.join(os.tmpdir(), "kiln-sandbox-test-"));
const dataDir = path.join(root, "data");
const projectDir = path.join(root, "data", "orgs", "acme", "projects", "a");
const otherDir = path.join(root, "data", "orgs", "acme", "projects", "b");
const projectId = `test-${randomBytes(3).toString("hex")}`;
const spec: SandboxSpec = { projectId, workspaceDir: projectDir, limits: { wallClockMs: 20_000 } };
const egress: SandboxSpec = { ...spec, network: "egress" };
let hostServer: Server;
let hostPort = 0;
let hostConnections = 0;

function sh(script: string, s: SandboxSpec = spec, limits = {}) {
  return driver.exec(s, { argv: ["/bin/sh", "-c", script], limits });
}

/** A Node one-liner inside the sandbox that prints how a TCP connect ended. */
function connectScript(host: string, port: number): string {
  const js = `const s=require('net').connect(${port},'${host}');s.setTimeout(3000,()=>{console.log('TIMEOUT');process.exit()});s.on('connect',()=>{console.log('CONNECTED');process.exit()});s.on('error',e=>{console.log(e.code);process.exit()})`;
  return `node -e "${js}"`;
}

function ownerUid(): number {
  const owner = driver.workspaceOwner(projectId);
  if (!owner) throw new Error("the local driver runs as root here");
  return owner.uid;
}

/** Live host processes running as `uid` (the project's sandbox uid). */
function hostProcessesOf(uid: number): string[] {
  const out: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      // Zombies hold no resources; bwrap's inner init is reaped by the host's pid 1 a moment later.
      if (/^State:\s+Z/m.test(status)) continue;
      if (new RegExp(`^Uid:\\s+${uid}\\s`, "m").test(status)) out.push(`${pid} ${status.split("\n")[0]}`);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

async function waitFor(stream: NodeJS.ReadableStream, text: string): Promise<void> {
  let seen = "";
  for await (const chunk of stream) {
    seen += String(chunk);
    if (seen.includes(text)) return;
  }
  throw new Error(`stream ended before "${text}": ${seen}`);
}

beforeAll(async () => {
  mkdirSync(projectDir, { recursive: true });
  mkdirSync(otherDir, { recursive: true });
  writeFileSync(path.join(dataDir, "secret.key"), "DATA-DIR-SECRET");
  writeFileSync(path.join(otherDir, "secret.txt"), "OTHER-PROJECT-SECRET");
  hostServer = createServer((socket) => {
    hostConnections++;
    socket.end("HOST-SERVICE\n");
  });
  await new Promise<void>((resolve) => hostServer.listen(0, "0.0.0.0", resolve));
  hostPort = (hostServer.address() as { port: number }).port;
  const check = await driver.check();
  expect(check.problems).toEqual([]);
});

afterAll(async () => {
  hostServer?.close();
  driver.close();
  rmSync(root, { recursive: true, force: true });
});

describe("local sandbox: filesystem", () => {
  it("runs node and npm from the host's Node 24 as an unprivileged user in /workspace", async () => {
    const r = await sh("id -u; pwd; node --version; npm --version; npx --version");
    expect(r.exitCode, r.stderr).toBe(0);
    const [uid, cwd, node, npm, npx] = r.stdout.trim().split("\n");
    expect(uid).toBe("1000");
    expect(cwd).toBe("/workspace");
    expect(node).toBe(process.version);
    expect(npm).toMatch(/^\d+\.\d+\.\d+$/);
    expect(npx).toBe(npm);
  });

  it("cannot read /etc/shadow, the data dir or another project", async () => {
    for (const file of ["/etc/shadow", path.join(dataDir, "secret.key"), path.join(otherDir, "secret.txt")]) {
      const r = await sh(`cat '${file}'`);
      expect(r.exitCode, file).not.toBe(0);
      expect(r.stdout).toBe("");
    }
    const r = await sh("ls -a / /workspace/..; find / -xdev -name 'secret*' 2>/dev/null; true");
    expect(r.stdout).not.toMatch(/\bwork\b|\broot\b|secret/);
    expect(r.stdout).not.toContain(path.basename(root));
  });

  it("writes /workspace, and nothing outside it reaches the host", async () => {
    const marker = `kiln-escape-${randomBytes(4).toString("hex")}`;
    const r = await sh(
      `echo hi > /workspace/ok.txt && for p in /usr/${marker} /etc/${marker} /${marker} /opt/node/bin/${marker}; do ` +
        `if echo x > $p 2>/dev/null; then echo WROTE $p; fi; done; echo x > /tmp/${marker} && echo TMP-OK`,
    );
    expect(r.stdout).not.toContain("WROTE");
    expect(r.stdout).toContain("TMP-OK");
    expect(readFileSync(path.join(projectDir, "ok.txt"), "utf8")).toBe("hi\n");
    // The project's own unprivileged host uid, not root, owns what the sandbox writes.
    expect(statSync(path.join(projectDir, "ok.txt")).uid).toBe(ownerUid());
    expect(ownerUid()).toBeGreaterThanOrEqual(200_000);
    for (const p of [`/usr/${marker}`, `/etc/${marker}`, `/${marker}`, `/tmp/${marker}`]) {
      expect(existsSync(p), p).toBe(false);
    }
  });

  it("sees only its own processes", async () => {
    const r = await sh("ps -e -o pid=,comm=");
    const lines = r.stdout.trim().split("\n");
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(r.stdout).not.toMatch(/postgres|vitest|node/);
    expect(lines[0]?.trim()).toMatch(/^1 bwrap$/);
  });

  it("cannot see another sandbox's /tmp, even of the same project", async () => {
    const a = await driver.spawn(spec, {
      argv: ["/bin/sh", "-c", "echo a > /tmp/mine && echo READY && sleep 60"],
    });
    await waitFor(a.stdout, "READY");
    const r = await sh("ls /tmp; cat /tmp/mine");
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).not.toContain("mine");
    await a.kill();
  });
});

describe("local sandbox: limits", () => {
  it("contains a fork bomb and the host still spawns processes", async () => {
    const r = await sh("bomb(){ bomb | bomb & }; bomb; sleep 30", spec, {
      maxProcesses: 64,
      wallClockMs: 2_000,
    });
    expect(r.stderr).toContain("Cannot fork"); // pids.max said no
    // Either the wall clock ends it or the shell itself fails to fork `sleep`; both are containment.
    expect(r.timedOut || r.exitCode !== 0).toBe(true);
    expect(r.durationMs).toBeLessThan(6_000);
    expect(hostProcessesOf(ownerUid())).toEqual([]);
    expect(spawnSync("/bin/true").status).toBe(0);
  });

  it("kills a memory hog and reports it", async () => {
    const r = await driver.exec(spec, {
      argv: ["node", "-e", "const a=[];for(;;)a.push(Buffer.alloc(1<<20,1))"],
      limits: { memoryBytes: 128 * 1024 * 1024 },
    });
    expect(r.oomKilled).toBe(true);
    expect(r.signal).toBe("SIGKILL");
    expect(r.timedOut).toBe(false);
  });

  it("kills a runaway loop at the wall-clock limit", async () => {
    const r = await driver.exec(spec, { argv: ["node", "-e", "for(;;){}"], limits: { wallClockMs: 1_000 } });
    expect(r.timedOut).toBe(true);
    expect(r.durationMs).toBeLessThan(5_000);
    expect(hostProcessesOf(ownerUid())).toEqual([]);
  });

  it("keeps the head and tail of long output", async () => {
    const r = await sh("echo START; head -c 100000 /dev/zero | tr '\\0' a; echo; echo END", spec, {
      outputBytes: 1000,
    });
    expect(r.stdoutTruncated).toBe(true);
    expect(r.stdout.startsWith("START")).toBe(true);
    expect(r.stdout.trimEnd().endsWith("END")).toBe(true);
    expect(r.stdout.length).toBeLessThan(1100);
  });

  it("kill() ends a dev server and every child, also those that left its session", async () => {
    const p: SandboxProcess = await driver.spawn(spec, {
      argv: ["/bin/sh", "-c", "sleep 1000 & setsid sleep 1000 & (sleep 1000 &) ; echo READY; wait"],
    });
    await waitFor(p.stdout, "READY");
    const uid = ownerUid();
    expect(hostProcessesOf(uid).length).toBeGreaterThanOrEqual(4);
    await p.kill();
    expect(hostProcessesOf(uid)).toEqual([]);
  });

  it("runs sandboxes of one project side by side", async () => {
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        sh(`echo ${i} > /workspace/par-${i}.txt && cat /workspace/par-${i}.txt`, i % 2 ? egress : spec),
      ),
    );
    expect(runs.map((r) => r.stdout.trim())).toEqual(["0", "1", "2", "3", "4", "5", "6", "7"]);
  });

  it("keeps no process of a command in its cgroups, and removes them when the project is forgotten", async () => {
    const groups = (c: string) => {
      const dir = `/sys/fs/cgroup/${c}/kiln`;
      return existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith(projectId)) : [];
    };
    for (const c of ["memory", "pids", "cpu"]) {
      for (const g of groups(c)) {
        const pids = readFileSync(`/sys/fs/cgroup/${c}/kiln/${g}/cgroup.procs`, "utf8")
          .split("\n")
          .filter(Boolean);
        // Only the next command's wrapper, still root and waiting (a standby chain), never the project's uid.
        for (const pid of pids) {
          expect(readFileSync(`/proc/${pid}/status`, "utf8"), `${c}/${g}`).toMatch(/^Uid:\s+0\s/m);
        }
      }
    }
    await driver.forget(projectId);
    for (const c of ["memory", "pids", "cpu"]) expect(groups(c), c).toEqual([]);
  });
});

describe("local sandbox: network", () => {
  it("exposes a port of a server inside the sandbox on the host loopback", async () => {
    const server =
      "require('http').createServer((q,s)=>s.end('from-sandbox '+q.url)).listen(3000,()=>console.log('LISTENING'))";
    const p = await driver.spawn(spec, { argv: ["node", "-e", server] });
    try {
      await waitFor(p.stdout, "LISTENING");
      const { host, port } = await p.exposePort(3000);
      expect(host).toBe("127.0.0.1");
      const res = await fetch(`http://${host}:${port}/hello`);
      expect(await res.text()).toBe("from-sandbox /hello");
    } finally {
      await p.kill();
    }
  });

  it("started before its network: loopback only at first, then egress through the filter, port exposed", async () => {
    // From its first moment, tries 10.0.0.1:80 (private: our filter REJECTs it) until the network is
    // attached; every answer must be "no interface" or the filter's refusal — never a way out. Then the
    // host's test server through slirp's gateway, then it serves on 3000.
    const program = `
      const net = require("net");
      const attempt = (host, port) => new Promise((done) => {
        const s = net.connect(port, host);
        s.setTimeout(2000, () => { s.destroy(); done("TIMEOUT"); });
        s.on("connect", () => { s.destroy(); done("CONNECTED"); });
        s.on("error", (e) => done(e.code));
      });
      (async () => {
        const seen = [await attempt("10.0.0.1", 80)];
        for (let i = 0; i < 150 && seen.at(-1) === "ENETUNREACH"; i++) {
          await new Promise((r) => setTimeout(r, 10));
          seen.push(await attempt("10.0.0.1", 80));
        }
        const host = await attempt("10.0.2.2", ${hostPort});
        console.log("OUTCOMES " + JSON.stringify({ seen: [...new Set(seen)], host }));
        require("http").createServer((q, r) => r.end("early " + q.url)).listen(3000);
      })();`;
    const p = await driver.spawn(egress, { argv: ["node", "-e", program], startBeforeNetwork: true });
    try {
      const out = await new Promise<string>((resolve, reject) => {
        let text = "";
        p.stdout.setEncoding("utf8").on("data", (d: string) => {
          text += d;
          const m = /OUTCOMES (.*)/.exec(text);
          if (m) resolve(m[1]!);
        });
        setTimeout(() => reject(new Error(`no outcome: ${text}`)), 10_000);
      });
      const { seen, host: hostOutcome } = JSON.parse(out) as { seen: string[]; host: string };
      expect(["ENETUNREACH,ECONNREFUSED", "ECONNREFUSED"]).toContain(seen.join(","));
      expect(hostOutcome).toBe("ECONNREFUSED");
      const { host, port } = await p.exposePort(3000);
      const end = Date.now() + 5_000;
      let body = "";
      while (!body && Date.now() < end) {
        body = await fetch(`http://${host}:${port}/x`)
          .then((r) => r.text())
          .catch(() => "");
        if (!body) await new Promise((r) => setTimeout(r, 20));
      }
      expect(body).toBe("early /x");
    } finally {
      await p.kill();
    }
    expect(hostConnections).toBe(0);
  });

  it("cannot reach host loopback services (Postgres, a test server) without or with egress", async () => {
    const targets: [string, number][] = [
      ["127.0.0.1", 5432],
      ["127.0.0.1", hostPort],
      ["10.0.2.2", 5432],
      ["10.0.2.2", hostPort],
    ];
    for (const addr of Object.values(os.networkInterfaces()).flat()) {
      if (addr && addr.family === "IPv4" && !addr.internal) targets.push([addr.address, hostPort]);
    }
    for (const s of [spec, egress]) {
      const script = targets.map(([h, p]) => connectScript(h, p)).join("; ");
      const r = await sh(script, s);
      const outcomes = r.stdout.trim().split("\n");
      expect(outcomes, `${s.network}: ${r.stderr}`).toHaveLength(targets.length);
      for (const o of outcomes)
        expect(["ECONNREFUSED", "ENETUNREACH"], `${s.network}: ${outcomes}`).toContain(o);
    }
    expect(hostConnections).toBe(0);
  });

  it("egress: private and metadata addresses are refused at once by our filter", async () => {
    const r = await sh(
      `${connectScript("10.0.0.1", 80)}; ${connectScript("169.254.169.254", 80)}; ${connectScript("192.168.1.1", 80)}`,
      egress,
    );
    // ECONNREFUSED is the TCP reset our REJECT rule sends; a network drop would be a TIMEOUT.
    expect(r.stdout.trim().split("\n")).toEqual(["ECONNREFUSED", "ECONNREFUSED", "ECONNREFUSED"]);
    expect(r.durationMs).toBeLessThan(3_000);
  });

  it("egress: the sandbox cannot remove its filter", async () => {
    const r = await sh(
      `iptables -F OUTPUT; iptables-nft -F OUTPUT; ${connectScript("10.0.0.1", 80)}`,
      egress,
    );
    expect(r.stdout.trim()).toBe("ECONNREFUSED");
  });

  it("network none: no route at all", async () => {
    const r = await sh(connectScript("104.16.0.1", 443));
    expect(r.stdout.trim()).toBe("ENETUNREACH");
  });

  it("egress: reaches the npm registry", async (ctx) => {
    const host = await fetch("https://registry.npmjs.org/", { signal: AbortSignal.timeout(5_000) }).catch(
      () => null,
    );
    if (!host) {
      ctx.skip(true, "the host itself cannot reach registry.npmjs.org; nothing for the sandbox to reach");
      return;
    }
    const r = await driver.exec(egress, {
      argv: [
        "node",
        "-e",
        "fetch('https://registry.npmjs.org/').then(r=>console.log(r.status),e=>console.log(e.cause?.code??e))",
      ],
    });
    expect(r.stdout.trim(), r.stderr).toBe("200");
  });
});
