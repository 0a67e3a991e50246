import type { ExecResult } from "../sandbox/driver.ts";

/**
 * A server app publishes its production dependencies only (`npm prune --omit=dev`), without touching the
 * workspace's own `node_modules`, which its dev server keeps using: in the project's sandbox (as its user,
 * no network), the installed tree is hard-linked (copied where links fail) into this directory and pruned
 * there; capture publishes its `node_modules` (PRODUCTION_MODULES) as the artifact's. Nothing of it runs on the host.
 */
export const PRODUCTION_MODULES = ["node_modules", ".kiln-production", "node_modules"] as const;

const SCRIPT = `
const fs = require("node:fs");
const { execFileSync } = require("node:child_process");
const out = "node_modules/.kiln-production";
fs.rmSync(out, { recursive: true, force: true });
if (!fs.existsSync("package.json") || !fs.statSync("node_modules", { throwIfNoEntry: false })?.isDirectory()) {
  console.log("no installed dependencies");
  process.exit(0);
}
fs.mkdirSync(out + "/node_modules", { recursive: true });
for (const f of ["package.json", "package-lock.json", "npm-shrinkwrap.json"])
  if (fs.existsSync(f)) fs.copyFileSync(f, out + "/" + f);
for (const name of fs.readdirSync("node_modules")) {
  if (name === ".kiln-production") continue;
  try {
    execFileSync("cp", ["-al", "node_modules/" + name, out + "/node_modules/"], { stdio: "inherit" });
  } catch {
    fs.cpSync("node_modules/" + name, out + "/node_modules/" + name, { recursive: true, verbatimSymlinks: true });
  }
}
execFileSync("npm", ["prune", "--omit=dev", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
  cwd: out,
  stdio: "inherit",
});
`;

export const PRODUCTION_DEPS_ARGV = ["node", "-e", SCRIPT];

/**
 * Runs the step with `run` (the build's sandbox); true when the pruned tree is there to publish. Its
 * output goes to the build log; a failure is said there and the installed tree is published as it is.
 */
export async function pruneForProduction(
  run: (argv: string[]) => Promise<ExecResult>,
  log: { line(text: string): void; output(stdout: string, stderr: string): void },
): Promise<boolean> {
  log.line("$ npm prune --omit=dev (production dependencies only)");
  const result = await run(PRODUCTION_DEPS_ARGV);
  log.output(result.stdout, result.stderr);
  if (result.exitCode === 0 && !result.stdout.includes("no installed dependencies")) return true;
  if (result.exitCode !== 0)
    log.line("could not prune to production dependencies: publishing every installed one");
  return false;
}
