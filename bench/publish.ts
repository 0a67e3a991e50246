/**
 * How fast Publish makes a react-vite app public, and how fast its public address serves it, each against a
 * bare baseline measured in the same run (issue 13's goal for serving: at least 0.5× a bare static server).
 *
 * One real `kiln start` (PGlite in a temp dir, or KILN_BENCH_DATABASE_URL); KILN_BENCH_RUNS (default 5)
 * fresh react-vite projects (and as many static ones), made before anything is timed, and the spare
 * workspace's warm-up they cause waited out. Per run, alternating which goes first:
 *   (a) Kiln: POST …/deployments → the public host (`<project>--<org>.apps.localhost`, a Host header on
 *       loopback) answers 200 with the built index.html (polled every 10 ms);
 *       baseline: a copy of the same workspace (node_modules hard-linked from it, as from the template
 *       cache) built on the host with `npm run build` (NODE_ENV=production, as Kiln builds), then a tiny
 *       node:http static server of its dist/ (this file, `--serve`) spawned until it answers the same way.
 *       For scale, Kiln's own part: a static project (no build command: commit, capture, promote) published
 *       right after, POST → served.
 * Then, on the last run's site and server, which serve the same bytes:
 *   (b) the built JS bundle under /assets/: p50/p90 of KILN_BENCH_REQUESTS (default 200) sequential requests
 *       on one keep-alive connection after 50 of warm-up, and requests per second with 16 keep-alive
 *       connections for 3 s with the serving process's CPU per request (/proc: the client shares the two
 *       cores, so the rate is partly the client's); both without compression (identity) and with
 *       `accept-encoding: br, gzip` (both servers compress with brotli quality 5 once and keep the bytes, as
 *       Kiln does).
 * The load average is printed before and after (2 shared cores: read the numbers with it).
 *
 *   npm exec -- node bench/publish.ts
 *   KILN_BENCH_RUNS=3 KILN_BENCH_PROFILE=/tmp/prof npm exec -- node bench/publish.ts   (a CPU profile of the server)
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { cp, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { Deployment } from "@kiln/protocol";
import { linkTree } from "../packages/server/src/templates/link-tree.ts";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { type ApiCall, type KilnServer, signUp, startKiln } from "./lib/kiln-server.ts";
import { untilPage } from "./lib/preview-http.ts";
import { stopProcess } from "./lib/process.ts";
import { BENCH_TEMPLATE_CACHE_DIR, prepareTemplateCaches } from "./lib/template-caches.ts";

const SELF = fileURLToPath(import.meta.url);
/** Vite's built index.html loads its bundle from /assets/; the template's own loads /src/main.tsx. */
const BUILT_MARK = 'src="/assets/index-';
/** In the static template's index.html, not in the "nothing published here" page. */
const STATIC_MARK = '<html lang="en">';
const WARM_UP = 50;
const CONNECTIONS = 16;
const THROUGHPUT_MS = 3_000;

/** The bare baseline server: dist/ as it is, SPA fallback, brotli (quality 5, as Kiln) or gzip kept per file. */
async function serveBare(root: string, port: number): Promise<void> {
  const types: Record<string, string> = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
  };
  const compressed = new Map<string, Buffer>();
  const brotli = promisify(zlib.brotliCompress);
  const gzip = promisify(zlib.gzip);
  const server = http.createServer(async (req, res) => {
    let rel = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    if (rel.endsWith("/")) rel += "index.html";
    let file = path.join(root, path.normalize(rel));
    if (!file.startsWith(root + path.sep)) file = path.join(root, "index.html");
    let size = await stat(file).then(
      (s) => (s.isFile() ? s.size : -1),
      () => -1,
    );
    if (size < 0) {
      file = path.join(root, "index.html");
      size = (await stat(file)).size;
    }
    const type = types[path.extname(file)] ?? "application/octet-stream";
    const accept = req.headers["accept-encoding"] ?? "";
    const encoding =
      size < 1024 ? undefined : /\bbr\b/.test(accept) ? "br" : /\bgzip\b/.test(accept) ? "gzip" : undefined;
    const headers = { "content-type": type, vary: "accept-encoding" };
    if (!encoding) {
      res.writeHead(200, { ...headers, "content-length": size });
      createReadStream(file).pipe(res);
      return;
    }
    const key = `${file}\0${encoding}`;
    let body = compressed.get(key);
    if (!body) {
      const raw = await readFile(file);
      body =
        encoding === "br"
          ? await brotli(raw, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } })
          : await gzip(raw);
      compressed.set(key, body);
    }
    res.writeHead(200, { ...headers, "content-encoding": encoding, "content-length": body.length });
    res.end(body);
  });
  server.listen(port, "127.0.0.1");
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}

function pct(values: number[], p: number): number {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return n;
}

/** Vite's own "✓ built in 1.23s" / "built in 456ms", as ms. */
function viteBuiltIn(log: string): number {
  const m = /built in ([\d.]+)\s*(ms|s)\b/.exec(log);
  return m ? Number(m[1]) * (m[2] === "s" ? 1000 : 1) : Number.NaN;
}

/** Runs a command to its end; throws with its output when it fails. */
function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    child.stderr!.on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve(out) : reject(new Error(`${argv.join(" ")} failed (${code ?? signal}):\n${out}`)),
    );
  });
}

interface Fetched {
  status: number;
  encoding: string;
  bytes: number;
}

function get(
  agent: http.Agent,
  port: number,
  host: string,
  pathname: string,
  encoding: string,
): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    http
      .get(
        {
          host: "127.0.0.1",
          port,
          path: pathname,
          agent,
          headers: { host, ...(encoding ? { "accept-encoding": encoding } : {}) },
        },
        (res) => {
          let bytes = 0;
          res.on("data", (c: Buffer) => (bytes += c.length));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              encoding: String(res.headers["content-encoding"] ?? ""),
              bytes,
            }),
          );
        },
      )
      .on("error", reject);
  });
}

/** Checks an answer is the whole asset in the expected encoding: a 404 or an error page would flatter. */
function expectAsset(a: Fetched, encoding: string, what: string): void {
  const want = encoding ? "br" : "";
  if (a.status !== 200 || a.encoding !== want)
    throw new Error(
      `${what}: answered ${a.status} with content-encoding "${a.encoding}", wanted 200 "${want}"`,
    );
}

interface Target {
  name: string;
  /** The serving process, whose CPU time is read from /proc. */
  pid: number;
  port: number;
  host: string;
  asset: string;
}

/** Sequential requests on one keep-alive connection, after a warm-up: the ms of each. */
async function latencies(t: Target, encoding: string, n: number): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < WARM_UP; i++)
      expectAsset(await get(agent, t.port, t.host, t.asset, encoding), encoding, t.name);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const a = await get(agent, t.port, t.host, t.asset, encoding);
      out.push(performance.now() - t0);
      expectAsset(a, encoding, t.name);
    }
    return out;
  } finally {
    agent.destroy();
  }
}

/** A process's user + system CPU time so far, ms (Linux counts it in ticks of 10 ms). */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * CONNECTIONS keep-alive connections, each sending its next request at once, for THROUGHPUT_MS: requests
 * per second, and the server's CPU per request (µs) — the client shares the two cores, so the rate alone
 * may say more about the client than the server.
 */
async function throughput(t: Target, encoding: string): Promise<{ rps: number; cpuUs: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let done = 0;
  const cpu0 = await cpuMs(t.pid);
  const t0 = performance.now();
  const end = t0 + THROUGHPUT_MS;
  try {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < end) {
          expectAsset(await get(agent, t.port, t.host, t.asset, encoding), encoding, t.name);
          done++;
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    return { rps: done / seconds, cpuUs: ((await cpuMs(t.pid)) - cpu0) * (1000 / done) };
  } finally {
    agent.destroy();
  }
}

async function main(): Promise<void> {
  const RUNS = positiveInt("KILN_BENCH_RUNS", 5);
  const REQUESTS = positiveInt("KILN_BENCH_REQUESTS", 200);
  const work = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-publish-"));
  const rows = new Map<string, number[]>();
  const add = (what: string, ms: number) => rows.set(what, [...(rows.get(what) ?? []), ms]);
  const bareServers = new Set<ReturnType<typeof spawn>>();
  let kiln: KilnServer | undefined;
  process.stdout.write(`load average before: ${load()}\n`);
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KILN_DATA_DIR: path.join(work, "data"),
      LOG_LEVEL: "info",
      KILN_SECRET_KEY: randomBytes(32).toString("base64"),
      KILN_TEMPLATE_CACHE_DIR: BENCH_TEMPLATE_CACHE_DIR,
    };
    delete env.DATABASE_URL;
    if (process.env.KILN_BENCH_DATABASE_URL) env.DATABASE_URL = process.env.KILN_BENCH_DATABASE_URL;
    process.stdout.write(
      `template dependency caches ready in ${(await prepareTemplateCaches(env)).toFixed(1)} s\n`,
    );

    const t0 = performance.now();
    kiln = await startKiln(env, process.env.KILN_BENCH_PROFILE);
    // Its first spare react-vite workspace is warmed by running its dev server: seconds of CPU to wait out.
    const spareWarmed = async (since: number) => {
      const line = await kiln!.untilLog(/^(spare workspace warm|could not warm a spare)/, since, 120_000, {
        template: "react-vite",
      });
      return `"${line.msg}" after ${((performance.now() - t0) / 1000).toFixed(1)} s`;
    };
    process.stdout.write(`kiln start: ${await spareWarmed(0)}\n`);
    const call: ApiCall = await signUp(kiln.url);
    const org = (
      await call("POST", "/orgs", { name: "Bench", slug: `bench-${randomBytes(3).toString("hex")}` })
    ).slug as string;

    // Projects and the baselines' copies of their workspaces, untimed. Taking the spare makes Kiln refill it
    // 10 s later and warm the new one: waited out too, so no run shares the machine with it.
    const mark = kiln.logCount();
    interface Site {
      api: string;
      host: string;
    }
    /** A react-vite project, its baseline's copy, and a static project published alongside for scale. */
    interface Project extends Site {
      copy: string;
      plain: Site;
    }
    const siteOf = (p: { slug: string }): Site => ({
      api: `/orgs/${org}/projects/${p.slug}`,
      host: `${p.slug}--${org}.apps.localhost:${kiln!.port}`,
    });
    const projects: Project[] = [];
    for (let i = 0; i < RUNS; i++) {
      const p = await call("POST", `/orgs/${org}/projects`, { name: `Counter ${i}`, template: "react-vite" });
      const plain = await call("POST", `/orgs/${org}/projects`, { name: `Static ${i}`, template: "static" });
      const workspace = path.join(work, "data", "orgs", p.orgId, "projects", p.id);
      const copy = path.join(work, `bare-${i}`);
      await cp(workspace, copy, {
        recursive: true,
        filter: (src) => !["node_modules", ".git"].includes(path.relative(workspace, src)),
      });
      await linkTree(path.join(workspace, "node_modules"), path.join(copy, "node_modules"), {
        copy: (rel) => rel === ".package-lock.json",
      });
      projects.push({ ...siteOf(p), copy, plain: siteOf(plain) });
    }
    process.stdout.write(`${RUNS} projects made; refill: ${await spareWarmed(mark)}; load ${load()}\n`);

    const buildEnv = {
      ...process.env,
      NODE_ENV: "production",
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
    };
    /** Publishes `p` and waits until its host serves `mark`; answers the ms and the deployment's numbers. */
    const publishOnce = async (p: Site, mark: string) => {
      const wall0 = Date.now();
      const start = performance.now();
      const started = (await call("POST", `${p.api}/deployments`)) as Deployment;
      const accepted = performance.now();
      const logOf = async () =>
        ((await call("GET", `${p.api}/deployments/${started.id}/log`)) as { log: string }).log;
      // A failed build ends the bench at once, not when the poll gives up: its status, every 200 ms.
      let watching = true;
      const failed = (async () => {
        while (watching) {
          await new Promise((r) => setTimeout(r, 200));
          const d = (await call("GET", `${p.api}/deployments/${started.id}`)) as Deployment;
          if (d.status === "failed") throw new Error(`the deployment failed: ${d.error}\n${await logOf()}`);
        }
      })();
      try {
        await Promise.race([
          failed,
          untilPage(kiln!.port, p.host, mark, { ms: 120_000 }).catch(async (err) => {
            throw new Error(`${(err as Error).message}\nbuild log:\n${await logOf()}`);
          }),
        ]);
      } finally {
        watching = false;
      }
      const served = performance.now();
      await failed;
      const d = (await call("GET", `${p.api}/deployments/${started.id}`)) as Deployment;
      if (d.status !== "ready") throw new Error(`deployment ${d.status}: ${d.error}`);
      const log = await logOf();
      return {
        served: served - start,
        accepted: accepted - start,
        finished: Date.parse(d.finishedAt!) - wall0,
        log,
      };
    };
    const kilnOnce = async (p: Project) => {
      const r = await publishOnce(p, BUILT_MARK);
      add("Kiln: POST /deployments → public URL serves the new index.html", r.served);
      add("  POST → 202", r.accepted);
      add("  POST → deployment finished (its finishedAt)", r.finished);
      add("  vite: built in (its own figure, in the sandbox)", viteBuiltIn(r.log));
      // Kiln's own part, for scale: the same steps with no build command (commit, capture, promote).
      const s = await publishOnce(p.plain, STATIC_MARK);
      add("  for scale: a static project (no build) → served", s.served);
    };
    const bareOnce = async (p: Project, keep: boolean) => {
      const port = await freePort();
      const start = performance.now();
      const out = await run(["npm", "run", "build"], p.copy, buildEnv);
      const built = performance.now();
      const server = spawn(process.execPath, [SELF, "--serve", path.join(p.copy, "dist"), String(port)], {
        stdio: "inherit",
      });
      bareServers.add(server);
      await untilPage(port, `127.0.0.1:${port}`, BUILT_MARK, { ms: 30_000 });
      const served = performance.now();
      add("baseline: npm run build + bare static server answers", served - start);
      add("  baseline: npm run build", built - start);
      add("  baseline: server spawn → answers", served - built);
      add("  baseline: vite: built in", viteBuiltIn(out));
      if (!keep) {
        await stopProcess(server);
        bareServers.delete(server);
      }
      return { port, pid: server.pid! };
    };
    let bareServer = { port: 0, pid: 0 };
    for (let i = 0; i < RUNS; i++) {
      const p = projects[i]!;
      const last = i === RUNS - 1;
      // Alternated, so a drift in load hits both alike.
      if (i % 2 === 0) {
        await kilnOnce(p);
        bareServer = await bareOnce(p, last);
      } else {
        bareServer = await bareOnce(p, last);
        await kilnOnce(p);
      }
      process.stdout.write(`run ${i + 1}/${RUNS} done, load ${load()}\n`);
    }

    // (b) The same bundle from both: the last project's site and the last baseline's server.
    const p = projects[RUNS - 1]!;
    const html = await readFile(path.join(p.copy, "dist", "index.html"), "utf8");
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    if (!asset) throw new Error(`no bundle in the built index.html:\n${html}`);
    const site: Target = {
      name: "published site",
      pid: kiln.child.pid!,
      port: kiln.port,
      host: p.host,
      asset,
    };
    const bare: Target = {
      name: "bare server",
      pid: bareServer.pid,
      port: bareServer.port,
      host: `127.0.0.1:${bareServer.port}`,
      asset,
    };
    const sizes = async (t: Target) =>
      (
        await Promise.all(
          ["", "br, gzip"].map((e) => get(new http.Agent(), t.port, t.host, asset, e).then((a) => a.bytes)),
        )
      ).join(" bytes, with br ");
    process.stdout.write(`asset ${asset}: site ${await sizes(site)}; bare ${await sizes(bare)}\n`);
    /** `lower`: smaller is better (a time); the last column is always "site speed / bare". */
    const serving: Array<{ what: string; site: number[]; bare: number[]; lower: boolean; digits: number }> =
      [];
    for (const [label, encoding] of [
      ["identity", ""],
      ["br", "br, gzip"],
    ] as const) {
      // Each pair in both orders, so neither always runs on a warmer or cooler machine.
      const first = label === "identity" ? [site, bare] : [bare, site];
      const lat = new Map<Target, number[]>();
      const rates = new Map<Target, { rps: number; cpuUs: number }>();
      for (const t of first) lat.set(t, await latencies(t, encoding, REQUESTS));
      for (const t of first) rates.set(t, await throughput(t, encoding));
      const [s, b] = [rates.get(site)!, rates.get(bare)!];
      serving.push(
        {
          what: `${label}: one request (ms)`,
          site: lat.get(site)!,
          bare: lat.get(bare)!,
          lower: true,
          digits: 2,
        },
        {
          what: `${label}: ${CONNECTIONS} connections (req/s)`,
          site: [s.rps],
          bare: [b.rps],
          lower: false,
          digits: 0,
        },
        {
          what: `${label}:   server CPU per request (µs)`,
          site: [s.cpuUs],
          bare: [b.cpuUs],
          lower: true,
          digits: 0,
        },
      );
    }

    const width = Math.max(...[...rows.keys()].map((k) => k.length));
    process.stdout.write(`\n(a) publish, ${RUNS} runs\n${"".padEnd(width)}   p50 ms   p90 ms   runs\n`);
    for (const [what, ms] of rows)
      process.stdout.write(
        `${what.padEnd(width)} ${pct(ms, 50).toFixed(0).padStart(8)} ${pct(ms, 90).toFixed(0).padStart(8)} ${String(ms.filter(Number.isFinite).length).padStart(6)}\n`,
      );
    const ratio =
      pct(rows.get("Kiln: POST /deployments → public URL serves the new index.html")!, 50) /
      pct(rows.get("baseline: npm run build + bare static server answers")!, 50);
    const buildOnly =
      pct(rows.get("Kiln: POST /deployments → public URL serves the new index.html")!, 50) /
      pct(rows.get("  baseline: npm run build")!, 50);
    process.stdout.write(
      `Kiln publish / baseline (p50): ${ratio.toFixed(2)}×; / the baseline's npm run build alone: ${buildOnly.toFixed(2)}×\n`,
    );

    const w2 = Math.max(...serving.map((s) => s.what.length));
    process.stdout.write(
      `\n(b) serving ${asset} (${REQUESTS} sequential after ${WARM_UP} warm-up; ${CONNECTIONS} connections: one ${THROUGHPUT_MS / 1000} s window)\n` +
        `${"".padEnd(w2)}   site p50   site p90   bare p50   bare p90   site speed / bare\n`,
    );
    for (const s of serving) {
      const [s50, s90, b50, b90] = [pct(s.site, 50), pct(s.site, 90), pct(s.bare, 50), pct(s.bare, 90)];
      const speed = s.lower ? b50 / s50 : s50 / b50;
      const f = (v: number) => v.toFixed(s.digits).padStart(10);
      process.stdout.write(
        `${s.what.padEnd(w2)} ${f(s50)} ${f(s90)} ${f(b50)} ${f(b90)}   ${speed.toFixed(2)}×\n`,
      );
    }
    process.stdout.write("goals: serving ≥ 0.5× the bare static server's speed\n");
  } finally {
    await Promise.all([...bareServers].map(stopProcess));
    await kiln?.stop();
    await rm(work, { recursive: true, force: true, maxRetries: 5 }).catch((err) => {
      process.stderr.write(`could not remove ${work}: ${(err as Error).message}\n`);
    });
    process.stdout.write(`load average after: ${load()}\n`);
  }
}

// Last: the helpers above are `const`s, not hoisted.
if (process.argv[2] === "--serve") await serveBare(process.argv[3]!, Number(process.argv[4]));
else await main();
