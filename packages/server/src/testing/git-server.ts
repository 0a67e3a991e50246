import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { readCgiHead } from "../git/cgi.ts";
import { runGit } from "./git.ts";
import { testCertificate } from "./tls.ts";

/**
 * A git host outside Kiln for tests: `git http-backend` (CGI) behind a Node https server with a certificate
 * of its own CA (made with openssl here), listening on this machine's non-loopback address (the sandboxes
 * reach it through slirp4netns; loopback they never reach). A few paths misbehave on purpose:
 * `/redirect/…` answers 302 to loopback, `/html/…` is a web page, `/slow/…` never answers, `/private/…`
 * wants Basic auth.
 */
export interface TestGitServer {
  /** The host's address the server listens on (192.0.2.2 on the test machine). */
  host: string;
  port: number;
  /** The directory of the server's bare repositories (`<root>/<name>.git`). */
  root: string;
  /** PEM file of the CA that signed the server's certificate (for KILN_GIT_CA_FILE). */
  caFile: string;
  /** The server's key and certificate (for fakes on the same address: testing/git-hosts/). */
  tls: { key: Buffer; cert: Buffer };
  /** The Authorization headers every request came with (tokens must reach only this server). */
  authorizations: string[];
  /** Every request's path, in order. */
  paths: string[];
  url(name: string): string;
  /** A bare repository `<name>.git` with one commit of `files` on `branch` (default main); empty without files. */
  createRepo(name: string, files: Record<string, string>, branch?: string): Promise<void>;
  /** Commits `files` on the branch from outside Kiln (a clone of the server's repository). */
  commitOutside(
    name: string,
    files: Record<string, string>,
    message: string,
    branch?: string,
  ): Promise<string>;
  /** A file at a branch of the server's repository, or undefined. */
  show(name: string, ref: string, file: string): Promise<string | undefined>;
  /** The commit a branch of the server's repository points at, or undefined. */
  tip(name: string, branch: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

export const PRIVATE_TOKEN = "s3cret-token-for-private-repos";

/** This machine's first non-loopback IPv4 address. */
export function externalAddress(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  throw new Error("no non-loopback IPv4 address on this machine");
}

/** Host git on the test's own repositories (never a project's), failing loudly. */
export async function hostGit(cwd: string, args: string[]): Promise<string> {
  const r = await runGit(args, { cwd });
  if (r.code !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

export async function startGitServer(): Promise<TestGitServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kiln-git-server-"));
  const root = path.join(dir, "repos");
  await mkdir(root);
  const host = externalAddress();
  const tls = await testCertificate(dir, host);
  const authorizations: string[] = [];
  const paths: string[] = [];
  const server = https.createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const url = new URL(req.url ?? "/", "https://x");
    paths.push(url.pathname);
    if (req.headers.authorization) authorizations.push(req.headers.authorization);
    if (url.pathname.startsWith("/redirect/")) {
      res.writeHead(302, { location: `http://127.0.0.1:9/${url.pathname.slice(10)}${url.search}` }).end();
      return;
    }
    if (url.pathname.startsWith("/slow/")) return; // never answers (closed when the server stops)
    if (url.pathname.startsWith("/html/")) {
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>Not git</title>");
      return;
    }
    let pathInfo = url.pathname;
    if (pathInfo.startsWith("/private/")) {
      const expected = `Basic ${Buffer.from(`x-access-token:${PRIVATE_TOKEN}`).toString("base64")}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="git"' }).end("authentication required");
        return;
      }
      pathInfo = pathInfo.slice("/private".length);
    }
    const child = spawn("git", ["http-backend"], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: "1",
        REQUEST_METHOD: req.method ?? "GET",
        PATH_INFO: pathInfo,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers["content-type"] ?? "",
        ...(req.headers["content-encoding"]
          ? { HTTP_CONTENT_ENCODING: req.headers["content-encoding"] }
          : {}),
        ...(req.headers["git-protocol"] ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
        REMOTE_USER: "outside",
        REMOTE_ADDR: req.socket.remoteAddress ?? "",
      },
      stdio: ["pipe", "pipe", "ignore"],
    });
    req.pipe(child.stdin);
    child.stdin.on("error", () => {});
    readCgiHead(child.stdout).then(
      ({ head, rest }) => {
        res.writeHead(head.status, head.headers);
        res.write(rest);
        child.stdout.pipe(res);
      },
      () => res.writeHead(502).end(),
    );
  });
  server.listen(0, host);
  await once(server, "listening");
  const port = (server.address() as { port: number }).port;
  const bare = (name: string) => path.join(root, `${name}.git`);
  const work = () => mkdtemp(path.join(dir, "work-"));

  return {
    host,
    port,
    root,
    caFile: tls.caFile,
    tls: { key: tls.key, cert: tls.cert },
    authorizations,
    paths,
    url: (name) => `https://${host}:${port}/${name}.git`,
    async createRepo(name, files, branch = "main") {
      await mkdir(path.dirname(bare(name)), { recursive: true });
      await hostGit(dir, ["init", "-q", "--bare", "-b", branch, bare(name)]);
      await hostGit(bare(name), ["config", "http.receivepack", "true"]);
      if (Object.keys(files).length === 0) return;
      const w = await work();
      await hostGit(w, ["init", "-q", "-b", branch]);
      for (const [file, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(w, file)), { recursive: true });
        await writeFile(path.join(w, file), text);
      }
      await hostGit(w, ["add", "-A"]);
      await hostGit(w, ["commit", "-q", "-m", "first"]);
      await hostGit(w, ["push", "-q", bare(name), `HEAD:refs/heads/${branch}`]);
      await rm(w, { recursive: true, force: true });
    },
    async commitOutside(name, files, message, branch = "main") {
      const w = await work();
      await hostGit(w, ["clone", "-q", "-b", branch, bare(name), "."]);
      for (const [file, text] of Object.entries(files)) {
        await mkdir(path.dirname(path.join(w, file)), { recursive: true });
        await writeFile(path.join(w, file), text);
      }
      await hostGit(w, ["add", "-A"]);
      await hostGit(w, ["commit", "-q", "-m", message]);
      await hostGit(w, ["push", "-q", "origin", `HEAD:refs/heads/${branch}`]);
      const sha = (await hostGit(w, ["rev-parse", "HEAD"])).trim();
      await rm(w, { recursive: true, force: true });
      return sha;
    },
    async show(name, ref, file) {
      return hostGit(bare(name), ["show", `${ref}:${file}`]).catch(() => undefined);
    },
    async tip(name, branch) {
      const out = await hostGit(bare(name), ["rev-parse", "-q", "--verify", `refs/heads/${branch}`]).catch(
        () => "",
      );
      return out.trim() || undefined;
    },
    async stop() {
      server.closeAllConnections();
      server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
