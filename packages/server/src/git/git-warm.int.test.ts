import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdir, readFile, rename, rm, stat, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitTestbed, git, remoteUrl, runGit, startGitTestbed, tempDir } from "../testing/git.ts";
import type { SignedUp, TestKiln } from "../testing/harness.ts";
import type { WarmGit } from "./warm.ts";

/**
 * The warm git sandbox (warm.ts): one long-lived sandbox per project forks every git request. Attacked as
 * the tenant could: a request that leaves processes behind, a `.git` or workspace swapped between requests,
 * a stranger on the socket, requests at once, another project's requests.
 */

let kiln: TestKiln;
let base: string;
let owner: SignedUp;
let token: string;
let org: GitTestbed["org"];
let newProject: GitTestbed["newProject"];
let warm: WarmGit;

beforeAll(async () => {
  ({ kiln, base, owner, token, org, newProject } = await startGitTestbed());
  const w = kiln.services.git.backend.warm;
  if (!w) throw new Error("this host runs git without warm sandboxes (no sandbox driver)");
  warm = w;
}, 120_000);

afterAll(() => kiln?.stop());

type Project = Awaited<ReturnType<GitTestbed["newProject"]>>;

const url = (p: Project) => remoteUrl(base, org.slug, p.slug, token);

async function clone(p: Project): Promise<string> {
  const dir = await tempDir("warm");
  await git(["clone", "-q", url(p), dir]);
  return dir;
}

async function mainOf(p: Project): Promise<string> {
  return (await git(["ls-remote", url(p), "refs/heads/main"])).split("\t")[0]!;
}

/** Host pids whose command line contains `marker` (processes a sandbox left running). */
async function hostPids(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).replaceAll("\0", " ");
    if (cmdline.includes(marker)) found.push(Number(entry));
  }
  return found;
}

async function until(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

function text(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    stream.on("data", (d: Buffer) => (out += d.toString()));
    stream.on("end", () => resolve(out));
  });
}

describe("a project's warm git sandbox", () => {
  it("serves its requests, one after another and at once, and never another project's", async () => {
    const a = await newProject();
    const b = await newProject();
    // A commit only project a has.
    const work = await clone(a);
    await writeFile(path.join(work, "only-a.txt"), "a\n");
    await git(["add", "only-a.txt"], { cwd: work });
    await git(["commit", "-qm", "only in a"], { cwd: work });
    const pushed = await runGit(["push", "origin", "main"], { cwd: work });
    expect(pushed.code, pushed.stderr).toBe(0);
    const first = { a: warm.current(org.id, a.id), b: warm.current(org.id, b.id) };
    expect(first.a).toBeDefined();
    expect(first.b).toBeUndefined();

    // Clones, ls-remotes and a push of both projects at once.
    const side = await clone(b);
    await writeFile(path.join(side, "side.txt"), "b\n");
    await git(["add", "side.txt"], { cwd: side });
    await git(["commit", "-qm", "side"], { cwd: side });
    const results = await Promise.all([
      ...[a, b, a, b, a, b].map(async (p) => ({ p, dir: await clone(p) })),
      mainOf(a),
      mainOf(b),
      runGit(["push", "origin", "main:refs/heads/side"], { cwd: side }),
    ]);
    for (const r of results.slice(0, 6) as Array<{ p: Project; dir: string }>) {
      const files = await readdir(r.dir);
      expect(files.includes("only-a.txt"), r.p === a ? "a" : "b").toBe(r.p === a);
    }
    expect(results[6]).not.toBe(results[7]);
    expect((results[8] as { code: number }).code).toBe(0);
    expect(await git(["ls-remote", url(b), "refs/heads/side"])).toContain("refs/heads/side");
    expect(await git(["ls-remote", url(a), "refs/heads/side"])).toBe("");

    // One sandbox each, the same one throughout, on a socket of its own.
    const now = { a: warm.current(org.id, a.id)!, b: warm.current(org.id, b.id)! };
    expect(now.a.serial).toBe(first.a!.serial);
    expect(now.b.serial).not.toBe(now.a.serial);
    expect(now.b.socket).not.toBe(now.a.socket);
    expect(kiln.limits.sandboxes.usage(org.id).sandboxes).toBeGreaterThanOrEqual(2);
    for (const dir of [work, side, ...results.slice(0, 6).map((r) => (r as { dir: string }).dir)])
      await rm(dir, { recursive: true, force: true });
  });

  it("listens on a socket only the project's uid may use, that no other sandbox of the project sees, and drops strangers", async () => {
    const p = await newProject();
    await mainOf(p);
    const current = warm.current(org.id, p.id)!;
    // The way to the socket is a directory only the project's uid (and root) may enter, owned through a
    // descriptor; another uid cannot even reach the socket's name.
    const dir = await stat(path.dirname(current.socket));
    expect(dir.mode & 0o777).toBe(0o700);
    const uid = kiln.driver.workspaceOwner(p.id)?.uid;
    if (uid !== undefined) expect(dir.uid).toBe(uid);
    const stranger = spawnSync("setpriv", [
      "--reuid=231998",
      "--regid=231998",
      "--clear-groups",
      "test",
      "-e",
      current.socket,
    ]);
    expect(stranger.status).toBe(1);
    expect(current.socket.startsWith(p.dir)).toBe(false);

    // The project's own code (any other sandbox of it) has no way to the socket.
    const seen = await kiln.driver.exec(
      { projectId: p.id, workspaceDir: p.dir },
      { argv: ["sh", "-c", "ls -a /run/kiln-git 2>&1; ls -a /run 2>&1"] },
    );
    expect(seen.stdout).not.toMatch(/(^|\n)s(\n|$)/);
    expect(seen.stdout).toContain("No such file");

    // A connection that names no request Kiln started is closed, and git goes on working.
    for (const first of ["0".repeat(32), "x".repeat(100), ""]) {
      const closed = await new Promise<boolean>((resolve) => {
        const socket = net.connect(current.socket);
        socket.on("error", () => resolve(true));
        socket.on("close", () => resolve(true));
        socket.on("connect", () => {
          socket.write(`${first}\nGET / HTTP/1.0\n\n`);
          if (first === "") socket.end();
        });
        setTimeout(() => resolve(false), 5_000);
      });
      expect(closed, first).toBe(true);
    }
    expect(await mainOf(p)).toMatch(/^[0-9a-f]{40}$/);
    expect(warm.current(org.id, p.id)!.serial).toBe(current.serial);
  });

  it("refuses a request after .git was swapped for a symlink, and a replaced workspace gets a new sandbox", async () => {
    const p = await newProject();
    const other = await newProject();
    const before = await mainOf(p);
    const serial = warm.current(org.id, p.id)!.serial;

    const gitDir = path.join(p.dir, ".git");
    const kept = path.join(p.dir, "kept-git");
    await rename(gitDir, kept);
    await symlink(path.join(other.dir, ".git"), gitDir);
    const refused = await runGit(["ls-remote", url(p)]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("no git repository");
    // Still the warm sandbox that refused it: the check runs in every request.
    expect(warm.current(org.id, p.id)!.serial).toBe(serial);
    await rm(gitDir);
    await rename(kept, gitDir);
    expect(await mainOf(p)).toBe(before);

    // The workspace directory itself replaced (Kiln's own doing, never the tenant's): the old mount is not it.
    const copy = `${p.dir}.copy`;
    await promisify(execFile)("cp", ["-a", "--", p.dir, copy]);
    await rm(p.dir, { recursive: true, force: true });
    await rename(copy, p.dir);
    expect(await mainOf(p)).toBe(before);
    expect(warm.current(org.id, p.id)!.serial).not.toBe(serial);
  });

  it("hands over the output of a process that exits at once (its exit may be reported before its connection)", async () => {
    const p = await newProject();
    await mainOf(p);
    const outputs = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const quick = await warm.spawn(org.id, p.id, ["sh", "-c", `echo quick${i}`], {});
        if (!quick) return "no process";
        quick.stdin!.end();
        const [out, status] = await Promise.all([text(quick.stdout), quick.exited]);
        return `${out.trim()} ${status.exitCode}`;
      }),
    );
    expect(outputs).toEqual(Array.from({ length: 40 }, (_, i) => `quick${i} 0`));

    // Kiln's event loop busy while the process starts, ends and is reported: both arrive at once.
    for (let i = 0; i < 5; i++) {
      const starting = warm.spawn(org.id, p.id, ["sh", "-c", `echo busy${i}`], {});
      await new Promise((resolve) => setImmediate(resolve));
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // blocking on purpose
      }
      const quick = await starting;
      expect(quick, `busy${i}`).toBeDefined();
      quick!.stdin!.end();
      expect((await text(quick!.stdout)).trim()).toBe(`busy${i}`);
    }
  });

  it("kills what a request leaves running when it is stopped, idles out, and stops with its project", async () => {
    const p = await newProject();
    await mainOf(p);
    const marker = `31337.${randomBytes(3).readUIntBE(0, 3)}`;
    // As if git had run code of the repository's: a process that leaves its process group.
    const leaver = await warm.spawn(
      org.id,
      p.id,
      ["sh", "-c", `setsid sleep ${marker} </dev/null >/dev/null 2>&1 & echo left`],
      {},
    );
    expect(leaver).toBeDefined();
    leaver!.stdin!.end();
    expect((await text(leaver!.stdout)).trim()).toBe("left");
    expect((await leaver!.exited).exitCode).toBe(0);
    await until(async () => (await hostPids(`sleep ${marker}`)).length >= 1);

    // A request that is stopped (hang-up, time limit) is killed, and its sandbox takes no new requests.
    const serial = warm.current(org.id, p.id)!.serial;
    const stuck = await warm.spawn(org.id, p.id, ["sh", "-c", `sleep 1${marker}`], {});
    await until(async () => (await hostPids(`sleep 1${marker}`)).length >= 1);
    await stuck!.kill();
    expect((await stuck!.exited).exitCode).not.toBe(0);
    await until(async () => (await hostPids(`sleep 1${marker}`)).length === 0);
    // Retired with it: the process the first request left behind is gone with the sandbox.
    await until(async () => (await hostPids(`sleep ${marker}`)).length === 0);
    expect(await mainOf(p)).toMatch(/^[0-9a-f]{40}$/);
    expect(warm.current(org.id, p.id)!.serial).not.toBe(serial);

    // Idle: stopped after the configured time without a request.
    const limits = kiln.services.git.backend.limits;
    const saved = limits.warmIdleMs;
    limits.warmIdleMs = 300;
    try {
      await mainOf(p);
      await until(() => warm.current(org.id, p.id) === undefined);
    } finally {
      limits.warmIdleMs = saved;
    }

    // Deleted: the project's warm sandbox and all in it stop.
    await mainOf(p);
    // A request the warm sandbox cannot take in time (a loaded machine) is undefined: git then runs in a
    // sandbox of its own. Asked again, as the backend would on the next request.
    let last: Awaited<ReturnType<typeof warm.spawn>>;
    for (let tries = 0; !last && tries < 3; tries++)
      last = await warm.spawn(
        org.id,
        p.id,
        ["sh", "-c", `setsid sleep 2${marker} </dev/null >/dev/null 2>&1 &`],
        {},
      );
    last!.stdin!.end();
    await last!.exited;
    await until(async () => (await hostPids(`sleep 2${marker}`)).length >= 1);
    const deleted = await owner.client.delete(p.api);
    expect(deleted.statusCode).toBeLessThan(300);
    expect(warm.current(org.id, p.id)).toBeUndefined();
    await until(async () => (await hostPids(`sleep 2${marker}`)).length === 0);
  });

  it("is not started when the org is at its sandbox limit: git still answers, from a sandbox per request", async () => {
    const p = await newProject();
    const held = [];
    try {
      for (;;) {
        try {
          held.push(
            kiln.limits.sandboxes.admit({
              kind: "command",
              orgId: org.id,
              projectId: p.id,
              memoryBytes: 0,
              cpu: 0,
            }),
          );
        } catch {
          break;
        }
        if (held.length > 1000) throw new Error("no sandbox limit");
      }
      expect(await mainOf(p)).toMatch(/^[0-9a-f]{40}$/);
      expect(warm.current(org.id, p.id)).toBeUndefined();
    } finally {
      for (const lease of held) lease.release();
    }
  });
});
