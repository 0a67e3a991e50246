import { execFileSync } from "node:child_process";
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { takeBundle } from "../remotes/bundle-file.ts";
import { PRIVATE_TOKEN, startGitServer, type TestGitServer } from "../testing/git-server.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/**
 * A tenant's workspace `.git` is hostile (ADR 0025): its config rewrites URLs (insteadOf, pushInsteadOf),
 * names a proxy, credential helpers and hooks; `.git` and `.kiln` may be links. A push with a token must
 * still reach only the linked URL, run none of it (on the host or in the sandbox), and leave the token
 * nowhere in the workspace. The sandbox's egress filter stops what the address policy would refuse.
 */

let server: TestGitServer;
let kiln: TestKiln;
let owner: SignedUp;
let org: { id: string; slug: string };
/** Host-side marker directory a payload running on the host (as anyone) could write to. */
let markers: string;
let other: Server;
let otherConnections = 0;

beforeAll(async () => {
  server = await startGitServer();
  other = createServer((socket) => {
    otherConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => other.listen(0, server.host, resolve));
  kiln = await startTestKiln({
    env: { KILN_EGRESS_ALLOW: `${server.host}:${server.port}`, KILN_GIT_CA_FILE: server.caFile },
  });
  owner = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Hostile git", slug: uniqueSlug("hostgit") })).json();
  markers = await mkdtemp(path.join(os.tmpdir(), "kiln-remote-markers-"));
  execFileSync("chmod", ["0777", markers]);
}, 120_000);
afterAll(async () => {
  await kiln?.stop();
  await server?.stop();
  other?.close();
  if (markers) await rm(markers, { recursive: true, force: true });
});

async function project(name: string) {
  const res = await owner.client.post(`/api/orgs/${org.slug}/projects`, { name, template: "static" });
  expect(res.statusCode, res.body).toBe(201);
  const p = res.json() as { id: string; slug: string };
  return {
    ...p,
    api: `/api/orgs/${org.slug}/projects/${p.slug}`,
    dir: kiln.storage.projectDir(org.id, p.id),
  };
}

/** A shell in the project's sandbox, as the tenant's own code would run (terminal, agent). */
async function inSandbox(p: { id: string; dir: string }, script: string) {
  const r = await kiln.driver.exec(
    { projectId: p.id, workspaceDir: p.dir },
    { argv: ["sh", "-c", script], env: { MARKERS: markers } },
  );
  expect(r.exitCode, r.stderr).toBe(0);
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  }
  return out;
}

describe("hostile .git/config against push and pull", () => {
  it("rewrites, proxies, helpers and hooks change nothing: the push reaches the linked URL, the token stays out", async () => {
    await server.createRepo("hostile", {});
    const p = await project("Hostile config");
    const url = `https://${server.host}:${server.port}/private/hostile.git`;
    const auth = { token: PRIVATE_TOKEN };
    expect((await owner.client.put(`${p.api}/remote`, { url, auth })).statusCode).toBe(200);
    const payload = (name: string) => `#!/bin/sh\ntouch "$MARKERS/${name}" /workspace/pwned-${name}\n`;
    await inSandbox(
      p,
      `set -e
cat >> .git/config <<EOF
[url "https://${server.host}:${server.port}/evil/"]
  insteadOf = https://${server.host}:${server.port}/
  pushInsteadOf = https://${server.host}:${server.port}/
[http]
  proxy = http://10.0.0.1:3128
  extraHeader = X-Leak: yes
[credential]
  helper = "!touch $MARKERS/credential /workspace/pwned-credential; echo password=x"
[core]
  hooksPath = .githooks
  fsmonitor = "touch $MARKERS/fsmonitor /workspace/pwned-fsmonitor"
[remote "origin"]
  url = https://${server.host}:${server.port}/evil/stolen.git
EOF
mkdir -p .githooks .git/hooks
for hook in pre-push post-checkout post-merge reference-transaction pre-commit post-commit; do
  printf '%s' '${payload("hook")}' > .githooks/$hook; cp .githooks/$hook .git/hooks/$hook
  chmod +x .githooks/$hook .git/hooks/$hook
done
echo change > change.txt`,
    );
    const pushed = await owner.client.post(`${p.api}/remote/push`, { auth });
    expect(pushed.statusCode, pushed.body).toBe(200);
    expect(await server.tip("hostile", "main")).toBe(pushed.json().commit);
    expect(await server.show("hostile", "main", "change.txt")).toBe("change\n");
    await server.commitOutside("hostile", { "outside.txt": "o\n" }, "outside");
    const pulled = await owner.client.post(`${p.api}/remote/pull`, { auth });
    expect(pulled.statusCode, pulled.body).toBe(200);
    expect(pulled.json().outcome).toBe("fast-forward");

    expect(server.paths.filter((p) => p.includes("evil"))).toEqual([]);
    const basic = Buffer.from(`x-access-token:${PRIVATE_TOKEN}`).toString("base64");
    expect(new Set(server.authorizations)).toEqual(new Set([`Basic ${basic}`]));
    expect(await readdir(markers)).toEqual([]);
    const files = await filesUnder(p.dir);
    expect(files.filter((f) => path.basename(f).startsWith("pwned-"))).toEqual([]);
    for (const file of files) {
      const text = await readFile(file, "latin1");
      expect(text.includes(PRIVATE_TOKEN) || text.includes(basic), file).toBe(false);
    }
    expect(pushed.body + pulled.body).not.toContain(PRIVATE_TOKEN);
  });

  it("a .git that is a link, or a .kiln that is one, sends nothing the project did not commit", async () => {
    await server.createRepo("links", {});
    const p = await project("Linked pieces");
    expect((await owner.client.put(`${p.api}/remote`, { url: server.url("links") })).statusCode).toBe(200);
    await inSandbox(p, "rm -rf .kiln && ln -s /etc .kiln");
    const ok = await owner.client.post(`${p.api}/remote/push`, {});
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await stat(path.join(p.dir, ".kiln"))).isDirectory()).toBe(true);

    await inSandbox(
      p,
      "mkdir -p /tmp/other && git init -q /tmp/other && mv .git .git-real && ln -s .git-real .git",
    );
    const before = await server.tip("links", "main");
    const refused = await owner.client.post(`${p.api}/remote/push`, {});
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().error.code).toBe("history_unavailable");
    expect(await server.tip("links", "main")).toBe(before);
  });

  it("internal URLs are refused before anything starts; the sandbox's filter refuses the rest at connect time", async () => {
    const p = await project("Internal");
    for (const url of [
      "https://localhost/x.git",
      "https://127.0.0.1:5432/x.git",
      `https://${server.host}:22/x.git`,
    ]) {
      const res = await owner.client.put(`${p.api}/remote`, { url });
      expect([res.statusCode, res.json().error.code], url).toEqual([400, "egress_refused"]);
    }
    expect((await owner.client.get(`${p.api}/remote`)).json()).toEqual({ remote: null });
    // The same host on the exempt port is reachable from an egress sandbox; on another port it is not.
    await server.createRepo("reachable", { "a.txt": "a" });
    const port = (other.address() as { port: number }).port;
    const probe = (target: string) =>
      kiln.driver.exec(
        { projectId: p.id, workspaceDir: p.dir, network: "egress" },
        { argv: ["git", "-c", "http.sslVerify=false", "ls-remote", target], env: { HOME: "/tmp" } },
      );
    const allowed = await probe(server.url("reachable"));
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    const blocked = await probe(`https://${server.host}:${port}/x.git`);
    expect(blocked.exitCode).not.toBe(0);
    expect(otherConnections).toBe(0);
  });
});

describe("taking a bundle out of a directory the sandbox wrote", () => {
  it("follows no link, reads no hard link or FIFO, and makes nothing when it refuses", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "kiln-take-"));
    try {
      const dest = path.join(dir, "dest.bundle");
      const take = (segments: string[], name: string) =>
        takeBundle({ dir: path.join(dir, "ws"), segments, name, dest, maxBytes: 1024 });
      await mkdir(path.join(dir, "ws", "real"), { recursive: true });
      await writeFile(path.join(dir, "secret"), "root's secret");
      await symlink(path.join(dir, "secret"), path.join(dir, "ws", "real", "link.bundle"));
      await symlink(path.join(dir, "ws", "real"), path.join(dir, "ws", ".kiln"));
      await link(path.join(dir, "secret"), path.join(dir, "ws", "real", "hard.bundle"));
      execFileSync("mkfifo", [path.join(dir, "ws", "real", "fifo.bundle")]);
      await writeFile(path.join(dir, "ws", "real", "big.bundle"), Buffer.alloc(2048));
      await expect(take(["real"], "link.bundle")).rejects.toThrow();
      await expect(take([".kiln"], "hard.bundle")).rejects.toThrow();
      await expect(take(["real"], "hard.bundle")).rejects.toThrow(/more than one link/);
      await expect(take(["real"], "fifo.bundle")).rejects.toThrow();
      await expect(take(["real"], "big.bundle")).rejects.toMatchObject({ code: "git_repository_too_large" });
      await expect(stat(dest)).rejects.toMatchObject({ code: "ENOENT" });
      expect(await readFile(path.join(dir, "secret"), "utf8")).toBe("root's secret");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
