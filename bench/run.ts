/**
 * Runs every benchmark in bench/ one after another, each in its own process so one cannot warm up or
 * slow down the next. `npm run bench`; exits non-zero when any benchmark fails.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const scripts = readdirSync(here)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.endsWith(".test.ts"))
  .sort();

function runOne(file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(here, file)], { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const failed: string[] = [];
for (const file of scripts) {
  process.stdout.write(`\n== bench/${file}\n`);
  const t0 = performance.now();
  const code = await runOne(file);
  process.stdout.write(
    `== bench/${file}: ${code === 0 ? "ok" : `failed (${code})`} in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  if (code !== 0) failed.push(file);
}
if (failed.length > 0) {
  process.stderr.write(`failed: ${failed.join(", ")}\n`);
  process.exitCode = 1;
}
