/**
 * Builds the studio (packages/web → packages/web/dist) when its sources changed since the last build, so
 * `npm start` and the browser tests always serve a current studio and a restart stays fast.
 * `--force` builds regardless.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const web = path.join(root, "packages/web");
const stamp = path.join(web, "dist/.build-stamp");
const inputs = [
  path.join(web, "src"),
  path.join(web, "index.html"),
  path.join(web, "vite.config.ts"),
  path.join(web, "package.json"),
  path.join(root, "packages/protocol/src"),
  path.join(root, "package-lock.json"),
];

function newest(p: string): number {
  if (!existsSync(p)) return 0;
  const s = statSync(p);
  if (!s.isDirectory()) return s.mtimeMs;
  let max = s.mtimeMs;
  for (const name of readdirSync(p)) max = Math.max(max, newest(path.join(p, name)));
  return max;
}

const force = process.argv.includes("--force");
const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
if (!force && built > Math.max(...inputs.map(newest))) process.exit(0);

console.log("kiln: building the studio (packages/web)…");
const t0 = performance.now();
const vite = path.join(root, "node_modules/vite/bin/vite.js");
const result = spawnSync(process.execPath, [vite, "build", "--logLevel", "warn"], {
  cwd: web,
  stdio: "inherit",
});
if (result.status !== 0) {
  console.error("kiln: the studio build failed");
  process.exit(result.status ?? 1);
}
writeFileSync(stamp, `${new Date().toISOString()}\n`);
console.log(`kiln: studio built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
