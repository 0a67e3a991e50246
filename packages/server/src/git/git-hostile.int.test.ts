import { randomBytes } from "node:crypto";
import { chmod, chown, mkdir, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GitTestbed, git, remoteUrl, runGit, startGitTestbed, tempDir } from "../testing/git.ts";
import type { TestKiln } from "../testing/harness.ts";

/** Git over HTTP against hostile paths, bodies, headers and repositories. */

const PUSH_LIMIT = 1024 * 1024;

let kiln: TestKiln;
let base: string;
let token: string;
let org: GitTestbed["org"];
let newProject: GitTestbed["newProject"];

beforeAll(async () => {
  ({ kiln, base, token, org, newProject } = await startGitTestbed({
    KILN_GIT_MAX_PUSH_BYTES: String(PUSH_LIMIT),
  }));
}, 120_000);

afterAll(() => kiln?.stop());

const basic = () => `Basic ${Buffer.from(`kiln:${token}`).toString("base64")}`;

/** A raw request: the path is sent exactly as written (no URL normalisation), the body as given. */
function raw(
  method: string,
  pathname: string,
  options: { headers?: Record<string, string | number>; body?: Buffer | AsyncIterable<Buffer> } = {},
) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const url = new URL(base);
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method,
          path: pathname,
          headers: { authorization: basic(), ...options.headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode!,
              headers: res.headers,
              body: Buffer.concat(chunks).toString(),
            }),
          );
          res.on("error", reject);
        },
      );
      // The server may answer and close before the whole body is sent; that is the point of some cases.
      req.on("error", (error) => reject(error));
      if (options.body === undefined) req.end();
      else if (Buffer.isBuffer(options.body)) req.end(options.body);
      else {
        const body = options.body;
        void (async () => {
          try {
            for await (const chunk of body) {
              if (req.destroyed) return;
              if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
            }
            req.end();
          } catch {
            // the server closed the connection early
          }
        })();
      }
    },
  );
}

async function refsOf(project: { slug: string }): Promise<string> {
  return git(["ls-remote", remoteUrl(base, org.slug, project.slug, token)]);
}

describe("hostile paths and queries", () => {
  it("are refused with a 4xx before git runs", async () => {
    const p = await newProject();
    const cases: Array<[string, number]> = [
      [`/git/${org.slug}/..%2F..%2Fetc/info/refs?service=git-upload-pack`, 400],
      [`/git/..%2F..%2Fetc/${p.slug}/info/refs?service=git-upload-pack`, 400],
      [`/git/${org.slug}/${p.slug}%2F.git/info/refs?service=git-upload-pack`, 400],
      [`/git/${org.slug}/${p.slug}.git.git/info/refs?service=git-upload-pack`, 400],
      [`/git/${org.slug}/.git/info/refs?service=git-upload-pack`, 400],
      [`/git/${org.slug}/${p.slug}.git%00/info/refs?service=git-upload-pack`, 400],
      [`/git/${org.slug}/${p.slug}.GIT/info/refs?service=git-upload-pack`, 400],
      [`/git/${org.slug}/${p.slug}.git/info/refs`, 400],
      [`/git/${org.slug}/${p.slug}.git/info/refs?service=git-upload-archive`, 400],
      [`/git/${org.slug}/${p.slug}.git/info/refs?service=git-upload-pack&service=git-receive-pack`, 400],
      [`/git/${org.slug}/${p.slug}.git/info/refs?service=--upload-pack%3Dtouch%20%2Ftmp%2Fx`, 400],
      // Dumb-protocol files and anything else in the repository are not served.
      [`/git/${org.slug}/${p.slug}.git/HEAD`, 404],
      [`/git/${org.slug}/${p.slug}.git/config`, 404],
      [`/git/${org.slug}/${p.slug}.git/objects/info/packs`, 404],
      [`/git/${org.slug}/../${p.slug}.git/info/refs?service=git-upload-pack`, 404],
      [`/git/${org.slug}/${p.slug}.git/../../../etc/passwd`, 404],
      [`/git/${org.slug}/${p.slug}.git/info/refs/../../config`, 404],
    ];
    const wrong: string[] = [];
    for (const [url, status] of cases) {
      const res = await raw("GET", url);
      if (res.status !== status || !String(res.headers["content-type"]).startsWith("application/json")) {
        wrong.push(`${url} → ${res.status} ${res.body.slice(0, 120)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("refuse malformed headers, wrong content types, browsers and compressed pushes", async () => {
    const p = await newProject();
    const repo = `/git/${org.slug}/${p.slug}.git`;
    const pushType = { "content-type": "application/x-git-receive-pack-request" };
    const before = await refsOf(p);
    const cases: Array<[string, string, Record<string, string>, Buffer | undefined, number, string]> = [
      [
        "GET",
        `${repo}/info/refs?service=git-upload-pack`,
        { "git-protocol": "version=2 x" },
        undefined,
        400,
        "bad_request",
      ],
      [
        "GET",
        `${repo}/info/refs?service=git-upload-pack`,
        { "git-protocol": "version=2; rm -rf /" },
        undefined,
        400,
        "bad_request",
      ],
      [
        "POST",
        `${repo}/git-receive-pack`,
        { "content-type": "application/json" },
        Buffer.from("{}"),
        415,
        "unsupported_media_type",
      ],
      [
        "POST",
        `${repo}/git-receive-pack`,
        { "content-type": "text/plain" },
        Buffer.from("0000"),
        415,
        "unsupported_media_type",
      ],
      [
        "POST",
        `${repo}/git-receive-pack`,
        { "content-type": "application/x-git-upload-pack-request" },
        Buffer.from("0000"),
        415,
        "unsupported_media_type",
      ],
      ["POST", `${repo}/git-upload-pack`, {}, undefined, 415, "unsupported_media_type"],
      [
        "POST",
        `${repo}/git-receive-pack`,
        { ...pushType, "content-encoding": "gzip" },
        Buffer.from("0000"),
        415,
        "unsupported_media_type",
      ],
      [
        "POST",
        `${repo}/git-receive-pack`,
        { ...pushType, origin: "https://evil.example" },
        Buffer.from("0000"),
        403,
        "origin_forbidden",
      ],
    ];
    for (const [method, url, headers, body, status, code] of cases) {
      const res = await raw(method, url, { headers, ...(body ? { body } : {}) });
      expect(
        [res.status, JSON.parse(res.body).error.code],
        `${method} ${url} ${JSON.stringify(headers)}`,
      ).toEqual([status, code]);
    }
    // Garbage in git's own content type reaches git, which refuses it; Kiln does not fail, nothing changes.
    const garbage = await raw("POST", `${repo}/git-receive-pack`, {
      headers: pushType,
      body: randomBytes(4096),
    });
    expect(garbage.status).toBeLessThan(500);
    expect(await refsOf(p)).toBe(before);
  });
});

describe("huge bodies", () => {
  it("a push declaring more than the limit is refused at once, unread", async () => {
    const p = await newProject();
    const res = await new Promise<{ status: number; body: string; connection: string | undefined }>(
      (resolve, reject) => {
        const url = new URL(base);
        const req = http.request({
          host: url.hostname,
          port: url.port,
          method: "POST",
          path: `/git/${org.slug}/${p.slug}.git/git-receive-pack`,
          headers: {
            authorization: basic(),
            "content-type": "application/x-git-receive-pack-request",
            "content-length": 10 * PUSH_LIMIT,
          },
        });
        req.on("response", (r) => {
          let body = "";
          r.on("data", (c) => {
            body += c;
          });
          r.on("end", () => resolve({ status: r.statusCode!, body, connection: r.headers.connection }));
        });
        req.on("error", reject);
        // Only the first bytes are ever sent: the answer must not wait for the rest.
        req.write(Buffer.alloc(1024));
      },
    );
    expect([res.status, JSON.parse(res.body).error.code, res.connection]).toEqual([
      413,
      "payload_too_large",
      "close",
    ]);
  });

  it("a streamed push growing past the limit is cut off with 413 and changes nothing", async () => {
    const p = await newProject();
    const before = await refsOf(p);
    async function* endless() {
      // Well-formed ref update commands that never end: git keeps reading them, waiting for the flush.
      for (let i = 0; ; i++) {
        const line = `${"0".repeat(40)} ${"1".repeat(40)} refs/heads/flood-${i}${i === 0 ? "\0report-status" : ""}\n`;
        yield Buffer.from(`${(line.length + 4).toString(16).padStart(4, "0")}${line}`);
      }
    }
    const res = await raw("POST", `/git/${org.slug}/${p.slug}.git/git-receive-pack`, {
      headers: { "content-type": "application/x-git-receive-pack-request" },
      body: endless(),
    });
    expect([res.status, JSON.parse(res.body).error.code]).toEqual([413, "payload_too_large"]);
    expect(await refsOf(p)).toBe(before);
  });

  it("git push of more than the limit fails with a clear message", async () => {
    const p = await newProject();
    const before = await refsOf(p);
    const work = await tempDir("big");
    await git(["clone", "-q", remoteUrl(base, org.slug, p.slug, token), work]);
    await writeFile(path.join(work, "big.bin"), randomBytes(2 * PUSH_LIMIT));
    await git(["add", "big.bin"], { cwd: work });
    await git(["commit", "-qm", "big"], { cwd: work });
    const pushed = await runGit(["push", "origin", "HEAD:refs/heads/big"], { cwd: work });
    expect(pushed.code).not.toBe(0);
    expect(pushed.stderr).toContain("413");
    expect(await refsOf(p)).toBe(before);
    await rm(work, { recursive: true, force: true });
  });
});

describe("a hostile repository", () => {
  it("runs none of its hooks, fsmonitor, filters or pack-objects hook, on the host or in the sandbox", async () => {
    const p = await newProject();
    const hostMarkers = await tempDir("markers");
    const owner = kiln.driver.workspaceOwner(p.id);
    const inSandbox = owner !== undefined;
    // Where the project's code would see its own files.
    const workspace = inSandbox ? "/workspace" : p.dir;
    const touch = (name: string) =>
      `touch ${workspace}/PWNED-${name} ${hostMarkers}/PWNED-${name} 2>/dev/null; true`;
    const hooks = [
      "pre-receive",
      "update",
      "post-receive",
      "post-update",
      "push-to-checkout",
      "reference-transaction",
      "proc-receive",
      "pre-auto-gc",
      "post-index-change",
      "post-checkout",
    ];
    const gitDir = path.join(p.dir, ".git");
    const made: string[] = [];
    const write = async (file: string, content: string, mode = 0o644) => {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
      await chmod(file, mode);
      made.push(file);
    };
    for (const dir of ["hooks", "evil-hooks"]) {
      for (const hook of hooks)
        await write(path.join(gitDir, dir, hook), `#!/bin/sh\n${touch(`${dir}-${hook}`)}\n`, 0o755);
    }
    await write(path.join(gitDir, "info", "attributes"), "* filter=evil\n");
    await write(path.join(gitDir, "objects", "info", "alternates"), "../alt-objects\n");
    await mkdir(path.join(gitDir, "alt-objects"), { recursive: true });
    made.push(path.join(gitDir, "alt-objects"));
    const config = await readFile(path.join(gitDir, "config"), "utf8");
    await writeFile(
      path.join(gitDir, "config"),
      `${config}
[core]
  hooksPath = evil-hooks
  fsmonitor = "${touch("fsmonitor")}"
  alternateRefsCommand = "${touch("alternate-refs")}"
  worktree = /tmp
  pager = "${touch("pager")}"
[uploadpack]
  packObjectsHook = "${touch("pack-objects-hook")}"
[receive]
  denyCurrentBranch = refuse
  autogc = true
[gc]
  auto = 1
[http]
  receivepack = false
  uploadpack = false
  getanyfile = true
[filter "evil"]
  clean = "${touch("filter-clean")}; cat"
  smudge = "${touch("filter-smudge")}; cat"
  process = "${touch("filter-process")}"
  required = true
`,
    );
    if (owner)
      for (const file of [...made, path.join(gitDir, "config")]) await chown(file, owner.uid, owner.gid);

    // Clone, push a change to main (working tree update, file writes) and a branch, over v0 and v2.
    const work = await tempDir("hostile");
    await git(["-c", "protocol.version=2", "clone", "-q", remoteUrl(base, org.slug, p.slug, token), work]);
    await writeFile(path.join(work, "index.html"), "<p>still works</p>\n");
    await git(["commit", "-qam", "through a hostile repository"], { cwd: work });
    const pushed = await runGit(
      ["-c", "protocol.version=0", "push", "origin", "main", "main:refs/heads/side"],
      {
        cwd: work,
      },
    );
    await runGit(["fetch", "-q", "origin"], { cwd: work });
    const pwned = [
      ...(await readdir(p.dir)).filter((f) => f.startsWith("PWNED")),
      ...(await readdir(hostMarkers)),
    ];
    expect(pwned).toEqual([]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(await readFile(path.join(p.dir, "index.html"), "utf8")).toBe("<p>still works</p>\n");
    await rm(work, { recursive: true, force: true });
    await rm(hostMarkers, { recursive: true, force: true });
  });

  it("whose .git is a symlink or a gitfile is not served (409), and nothing is followed", async () => {
    const elsewhere = await newProject();
    const target = path.join(elsewhere.dir, ".git");
    for (const swap of [
      (git: string) => writeFile(git, `gitdir: ${target}\n`),
      (git: string) => symlink(target, git),
    ]) {
      const p = await newProject();
      await rm(path.join(p.dir, ".git"), { recursive: true, force: true });
      await swap(path.join(p.dir, ".git"));
      for (const service of ["git-upload-pack", "git-receive-pack"]) {
        const res = await raw("GET", `/git/${org.slug}/${p.slug}.git/info/refs?service=${service}`);
        expect([res.status, JSON.parse(res.body).error.code]).toEqual([409, "history_unavailable"]);
      }
    }
  });
});

describe("slow clients", () => {
  it("are cut off after the time limit and git's sandbox is killed", async () => {
    const p = await newProject();
    const limits = kiln.services.git.backend.limits;
    const saved = limits.timeoutMs;
    limits.timeoutMs = 1500;
    try {
      const before = await refsOf(p);
      async function* stalled() {
        // A pkt-line announcing 160 bytes, of which 10 ever arrive: git waits for the rest.
        yield Buffer.from("00a00000000000");
        await new Promise((r) => setTimeout(r, 60_000));
      }
      const res = await raw("POST", `/git/${org.slug}/${p.slug}.git/git-receive-pack`, {
        headers: { "content-type": "application/x-git-receive-pack-request" },
        body: stalled(),
      });
      expect([res.status, JSON.parse(res.body).error.code]).toEqual([503, "unavailable"]);
      expect(await refsOf(p)).toBe(before);
    } finally {
      limits.timeoutMs = saved;
    }
  });
});
