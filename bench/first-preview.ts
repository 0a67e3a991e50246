/**
 * A fresh instance's first preview (issue 19): what a user waits for right after `npm install`, with an
 * empty data dir — `kiln start` (a real process, embedded PGlite) → ready → sign up over HTTP → create a
 * react-vite project → its page rendered in Chromium through the preview proxy.
 *
 * Each run starts from a new, empty KILN_DATA_DIR (so anything Kiln keeps there — the database, its
 * template dependency cache unless KILN_TEMPLATE_CACHE_DIR says otherwise, spare workspaces — is made
 * again), and the user acts as soon as the server answers. Phases: start → ready (`/health` 200), ready →
 * created (signup, org, `POST /projects` 201), created → first byte (the page through the preview proxy,
 * polled), first byte → rendered (Chromium shows the template's heading). Kiln's own log gives the
 * milestones of its background warm-up (dependency cache, spare workspace), relative to the spawn.
 *
 * Two modes, alternated in each run: the template dependency cache built by `kiln start` in the data dir
 * (`KILN_INSTALLED_TEMPLATE_CACHE_DIR=""`, as before ADR 0007's install-time cache), and built by
 * `npm install` (`kiln prepare-templates`, made here untimed if missing) and linked from by every data dir.
 *
 * Baseline, same run, alternated with the Kiln runs: bare Vite cold start on the host on the same template
 * (materialized from the dependency cache the run before built, no `.kiln/vite` optimizer cache) →
 * the heading rendered in Chromium. npm's own download cache (~/.npm) is whatever the machine has.
 *
 *   npm exec -- node bench/first-preview.ts
 *   KILN_BENCH_RUNS=5 npm exec -- node bench/first-preview.ts
 *   KILN_BENCH_BEFORE=/tmp/kiln-before npm exec -- node bench/first-preview.ts   (a third mode: that checkout's
 *     `kiln start`, e.g. `git archive <commit> | tar -x -C /tmp/kiln-before` with node_modules linked)
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../e2e/chromium.ts";
import { loadConfig } from "../packages/server/src/config.ts";
import { expectedGuestUid, prepareTemplates } from "../packages/server/src/templates/prepare-command.ts";
import { TemplateRegistry } from "../packages/server/src/templates/registry.ts";
import { TemplateService } from "../packages/server/src/templates/service.ts";
import { freePort } from "../packages/server/src/testing/free-port.ts";
import { getVia, untilPage } from "./lib/preview-http.ts";
import { stopProcess } from "./lib/process.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNS = Math.max(1, Number(process.env.KILN_BENCH_RUNS) || 3);
const PAGE_MARK = '<div id="root"></div>';
const HEADING = "Your app starts here";
/** Kiln's log lines whose time is shown (relative to the spawn of `kiln start`). */
const MILESTONES: Array<[string, RegExp]> = [
  ["log: template dependencies installed", /^template dependencies ready$/],
  ["log: template caches warm", /^template caches warm$/],
  ["log: spare workspace warmed", /^spare workspace warmed$/],
  ["log: spare warm-up stopped for the project", /^spare workspace warm-up stopped/],
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

function pct(values: number[], p: number): number {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const work = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-first-"));
const browser = await launchChromium();
const rows = new Map<string, number[]>();
const addRow = (what: string, ms: number) => rows.set(what, [...(rows.get(what) ?? []), ms]);

interface Mode {
  name: string;
  env: Record<string, string>;
  /** Another checkout whose `kiln start` runs (KILN_BENCH_BEFORE: the code before a change, same run). */
  root?: string;
}
/**
 * Before: the dependency cache is built by `kiln start` in the data dir. After: `npm install` built it
 * (`kiln prepare-templates`) into the install-time cache, which every data dir links from.
 */
const MODES: Mode[] = [
  { name: "no install-time cache", env: { KILN_INSTALLED_TEMPLATE_CACHE_DIR: "" } },
  { name: "install-time cache", env: {} },
  ...(process.env.KILN_BENCH_BEFORE
    ? [{ name: "before (KILN_BENCH_BEFORE)", env: {}, root: path.resolve(process.env.KILN_BENCH_BEFORE) }]
    : []),
];
const loads: string[] = [];

/** One fresh instance: returns its data dir (its dependency cache is the baseline's). */
async function kilnOnce(run: number, mode: Mode): Promise<string> {
  const dataDir = path.join(work, `data-${run}-${mode.name}`);
  const add = (what: string, ms: number) => addRow(`[${mode.name}] ${what}`, ms);
  const port = await freePort();
  const t0 = performance.now();
  const wall0 = Date.now();
  const root = mode.root ?? ROOT;
  const child = spawn(process.execPath, [path.join(root, "packages/server/src/cli.ts"), "start"], {
    cwd: root,
    env: {
      ...process.env,
      KILN_DATA_DIR: dataDir,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      KILN_EMBEDDED_WORKERS: "0",
      KILN_SECRET_KEY: randomBytes(32).toString("base64"),
      ...mode.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const seen = new Map<string, number>();
  let pending = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (d: string) => {
    out = (out + d).slice(-20_000);
    pending += d;
    const lines = pending.split("\n");
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.startsWith("{")) continue;
      try {
        const { msg, time } = JSON.parse(line) as { msg?: string; time?: number };
        for (const [label, re] of MILESTONES)
          if (msg && re.test(msg) && !seen.has(label)) seen.set(label, (time ?? Date.now()) - wall0);
      } catch {}
    }
  });
  child.stderr!.on("data", (d: Buffer) => (out = (out + d).slice(-20_000)));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`kiln start exited ${child.exitCode}:\n${out}`);
      if (performance.now() - t0 > 120_000) throw new Error(`kiln start not ready in 120 s:\n${out}`);
      if (
        await fetch(`http://127.0.0.1:${port}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await sleep(25);
    }
    const ready = performance.now();
    const api = `http://127.0.0.1:${port}/api`;
    const signup = await fetch(`${api}/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "first@example.com", password: "correct horse battery", name: "First" }),
    });
    if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${await signup.text()}`);
    const { accessToken } = (await signup.json()) as { accessToken: string };
    const auth = { authorization: `Bearer ${accessToken}` };
    // biome-ignore lint/suspicious/noExplicitAny: API answers are read loosely here; the tests check their shapes.
    const call = async (method: string, url: string, body?: unknown): Promise<any> => {
      const res = await fetch(`${api}${url}`, {
        method,
        headers: body === undefined ? auth : { ...auth, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    // Signing up makes the user's own org; the studio opens it.
    const orgs = await call("GET", "/orgs");
    const org = ((Array.isArray(orgs) ? orgs : orgs.orgs)[0]?.slug ??
      (await call("POST", "/orgs", { name: "First", slug: `first-${run}` })).slug) as string;
    const posted = performance.now();
    const slug = (
      await call("POST", `/orgs/${org}/projects`, {
        name: "My first app",
        template: "react-vite",
        startDevServer: true,
      })
    ).slug as string;
    const created = performance.now();
    const link = async () =>
      new URL((await call("POST", `/orgs/${org}/projects/${slug}/preview-session`)).url);
    const first = await link();
    const host = `${first.hostname}:${port}`;
    const signedIn = await getVia(port, host, first.pathname + first.search);
    const cookie = signedIn.headers["set-cookie"]?.[0]?.split(";")[0];
    if (signedIn.status !== 302 || !cookie) throw new Error(`preview sign-in: ${signedIn.status}`);
    await untilPage(port, host, PAGE_MARK, { cookie, ms: 180_000 });
    const firstByte = performance.now();
    const page = await browser.context.newPage();
    const inBrowser = await link();
    inBrowser.port = String(port);
    await page.goto(inBrowser.toString());
    await page.getByRole("heading", { level: 1, name: HEADING }).waitFor({ timeout: 120_000 });
    const rendered = performance.now();
    await page.close();
    add("kiln start → ready (/health)", ready - t0);
    add("ready → signed up", posted - ready);
    add("POST /projects → 201", created - posted);
    add("201 → first 200 byte via preview", firstByte - created);
    add("first byte → heading rendered (Chromium)", rendered - firstByte);
    add("FIRST PROJECT: POST /projects → rendered", rendered - posted);
    add("whole: kiln start → rendered", rendered - t0);
    add("  (at POST /projects, since spawn)", posted - t0);
    for (const [label] of MILESTONES) add(`  ${label}`, seen.get(label) ?? Number.NaN);
    loads.push(load());
    return dataDir;
  } finally {
    await stopProcess(child);
  }
}

/** Bare Vite on the host on the template, materialized from `cacheDir`: spawn → heading in Chromium. */
async function bareOnce(run: number, cacheDir: string): Promise<void> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: "silent" });
  // The entry the Kiln run built (keyed for the sandbox's uid): linked, not installed again.
  const templates = new TemplateService(
    await TemplateRegistry.load(config.templatesDir),
    cacheDir,
    undefined,
    {
      guestUid: await expectedGuestUid(config),
    },
  );
  const dir = path.join(work, `bare-${run}`);
  await mkdir(dir);
  await templates.materialize(templates.get("react-vite"), dir);
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, ["node_modules/vite/bin/vite.js", "--port", String(port)], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: "ignore",
  });
  try {
    await untilPage(port, `127.0.0.1:${port}`, PAGE_MARK, { ms: 180_000 });
    const firstByte = performance.now();
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.getByRole("heading", { level: 1, name: HEADING }).waitFor({ timeout: 120_000 });
    addRow("baseline: bare vite cold start → rendered", performance.now() - t0);
    addRow("  baseline: → first 200 byte", firstByte - t0);
    await page.close();
  } finally {
    await stopProcess(child);
    templates.close();
  }
}

try {
  process.stdout.write(`load average before: ${load()}\n`);
  // What `npm install` does (its postinstall), untimed: a no-op when the entry is there.
  const t0 = performance.now();
  await prepareTemplates(loadConfig({ ...process.env, LOG_LEVEL: "silent" }), () => {});
  process.stdout.write(`install-time template cache ready (${(performance.now() - t0).toFixed(0)} ms)\n`);
  for (let run = 0; run < RUNS; run++) {
    let dataDir = "";
    // Alternated, so load drifts hit both alike.
    for (const mode of run % 2 ? [...MODES].reverse() : MODES) {
      const dir = await kilnOnce(run, mode);
      if (mode === MODES[0]) dataDir = dir;
    }
    await bareOnce(run, path.join(dataDir, "cache", "templates"));
    process.stdout.write(`run ${run + 1}/${RUNS} done, load ${load()}\n`);
  }
} finally {
  await browser.close();
  await rm(work, { recursive: true, force: true, maxRetries: 5 }).catch((err) => {
    process.stderr.write(`could not remove ${work}: ${(err as Error).message}\n`);
  });
}

const base = pct(rows.get("baseline: bare vite cold start → rendered") ?? [], 50);
const width = Math.max(...[...rows.keys()].map((k) => k.length));
process.stdout.write(`\n${"".padEnd(width)}   p50 ms   max ms   runs   p50 vs baseline\n`);
for (const [what, ms] of rows) {
  const p50 = pct(ms, 50);
  const ratio =
    what.includes("→ rendered") && !what.startsWith("baseline") ? `${(p50 / base).toFixed(2)}×` : "";
  process.stdout.write(
    `${what.padEnd(width)} ${p50.toFixed(0).padStart(8)} ${pct(ms, 100).toFixed(0).padStart(8)} ${String(ms.filter(Number.isFinite).length).padStart(6)}   ${ratio}\n`,
  );
}
process.stdout.write(`\nload average after each Kiln run: ${loads.join(" | ")}; now ${load()}\n`);
process.stdout.write("goal: first project POST → rendered < 5000 ms on a fresh instance\n");
