/**
 * What it costs to give a new project its template and dependencies (ADR 0007).
 *
 * With the react-vite dependency cache built once (not timed), per run: the baseline `npm ci` into an empty
 * directory (npm's own download cache warm — the best a per-project install can do), then the ways to give a
 * project that `node_modules` (symlink, hard-link tree in Node, `cp -al`, full copy), the whole
 * `materialize` step per template (copy + .gitignore + git commit + links), and create-project over the API
 * (PGlite, `app.inject`). p50/p90 over KILN_BENCH_RUNS (default 7; npm ci runs 3 times).
 *
 *   npm exec -- node bench/templates.ts
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../packages/server/src/config.ts";
import { openDatabase } from "../packages/server/src/db/client.ts";
import { createKiln } from "../packages/server/src/kiln.ts";
import { linkTree } from "../packages/server/src/templates/link-tree.ts";
import { TemplateRegistry } from "../packages/server/src/templates/registry.ts";
import { TemplateService } from "../packages/server/src/templates/service.ts";

const RUNS = Math.max(3, Number(process.env.KILN_BENCH_RUNS) || 7);
const work = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-templates-"));
const config = loadConfig({ KILN_DATA_DIR: work, LOG_LEVEL: "silent" });
const templates = new TemplateService(
  await TemplateRegistry.load(config.templatesDir),
  path.join(work, "cache"),
);
const reactVite = templates.get("react-vite");

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const rows: Array<{ what: string; p50: number; p90: number; n: number }> = [];
async function time(what: string, runs: number, fn: (dir: string) => Promise<unknown>): Promise<void> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dir = path.join(work, `run-${randomBytes(4).toString("hex")}`);
    await mkdir(dir);
    const t0 = performance.now();
    await fn(dir);
    ms.push(performance.now() - t0);
    await rm(dir, { recursive: true, force: true });
  }
  rows.push({ what, p50: pct(ms, 50), p90: pct(ms, 90), n: runs });
}

try {
  const t0 = performance.now();
  const cached = path.join(await templates.cache.ensure(reactVite), "node_modules");
  process.stdout.write(`react-vite cache built in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);

  await time("baseline: npm ci (react-vite, npm cache warm)", 3, async (dir) => {
    await cp(path.join(reactVite.dir, "package.json"), path.join(dir, "package.json"));
    await cp(path.join(reactVite.dir, "package-lock.json"), path.join(dir, "package-lock.json"));
    execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--silent"], { cwd: dir, stdio: "ignore" });
  });
  await time("node_modules: symlink to cache", RUNS, (dir) =>
    symlink(cached, path.join(dir, "node_modules")),
  );
  await time("node_modules: hard-link tree (Node, chosen)", RUNS, (dir) =>
    linkTree(cached, path.join(dir, "node_modules"), { copy: (rel) => rel.startsWith(".") }),
  );
  await time("node_modules: cp -al", RUNS, async (dir) =>
    execFileSync("cp", ["-al", cached, path.join(dir, "node_modules")]),
  );
  await time("node_modules: full copy (cp -a)", RUNS, async (dir) =>
    execFileSync("cp", ["-a", cached, path.join(dir, "node_modules")]),
  );
  for (const t of templates.registry.all()) {
    await time(`materialize ${t.manifest.name} (files + git + deps)`, RUNS, (dir) =>
      templates.materialize(t, dir),
    );
  }

  const database = await openDatabase({});
  const kiln = await createKiln(
    loadConfig({
      KILN_DATA_DIR: path.join(work, "data"),
      LOG_LEVEL: "silent",
      KILN_SECRET_KEY: Buffer.alloc(32, 7).toString("base64"),
      KILN_TEMPLATE_CACHE_DIR: path.join(work, "cache"),
    }),
    { database },
  );
  const signup = await kiln.app.inject({
    method: "POST",
    url: "/api/auth/signup",
    payload: { email: "bench@example.com", password: "correct horse battery", name: "Bench" },
  });
  const token = signup.json().accessToken as string | undefined;
  const cookies = signup.cookies.map((c) => `${c.name}=${c.value}`).join("; ");
  const csrf = signup.cookies.find((c) => c.name === "kiln_csrf")?.value ?? "";
  const headers = token ? { authorization: `Bearer ${token}` } : { cookie: cookies, "x-csrf-token": csrf };
  const me = await kiln.app.inject({ method: "GET", url: "/api/auth/me", headers });
  const org = me.json().orgs[0].slug as string;
  for (const template of ["react-vite", "static", "node-api"]) {
    await time(`POST /api/orgs/:org/projects (${template})`, RUNS, async () => {
      const res = await kiln.app.inject({
        method: "POST",
        url: `/api/orgs/${org}/projects`,
        headers,
        payload: { name: `p ${randomBytes(3).toString("hex")}`, template },
      });
      if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
    });
  }
  await kiln.close();
  await database.close();
} finally {
  await rm(work, { recursive: true, force: true });
}

const width = Math.max(...rows.map((r) => r.what.length));
process.stdout.write(`\n${"".padEnd(width)}   p50 ms   p90 ms   runs\n`);
for (const r of rows) {
  process.stdout.write(
    `${r.what.padEnd(width)} ${r.p50.toFixed(1).padStart(8)} ${r.p90.toFixed(1).padStart(8)} ${String(r.n).padStart(6)}\n`,
  );
}
