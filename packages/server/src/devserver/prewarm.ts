import type { TemplateManifest } from "@kiln/protocol";
import type { SandboxDriver, SandboxSpec } from "../sandbox/driver.ts";
import { devCommand } from "../templates/registry.ts";
import { GUEST_PORT } from "./manager.ts";

/**
 * Runs inside the sandbox (loopback only): starts the dev command, asks it for each path in turn once it
 * answers, waits until the `until` file exists, and stops it. Arguments come as JSON in the environment.
 */
const WARM_SCRIPT = `
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const argv = JSON.parse(process.env.KILN_WARM_ARGV);
const paths = JSON.parse(process.env.KILN_WARM_PATHS);
const until = process.env.KILN_WARM_UNTIL;
const child = spawn(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "inherit"] });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let stopping = false;
const stop = () => { stopping = true; child.kill("SIGTERM"); setTimeout(() => process.exit(0), 2000); };
child.on("exit", (code) => {
  if (stopping) process.exit(0);
  console.error("the dev server exited (" + code + ")");
  process.exit(3);
});
(async () => {
  for (const p of paths) {
    for (;;) {
      try {
        const res = await fetch("http://127.0.0.1:" + process.env.PORT + p);
        await res.arrayBuffer();
        break;
      } catch {
        await sleep(50);
      }
    }
  }
  while (!fs.existsSync(until)) await sleep(50);
  stop();
})();
`;

/**
 * Warms a project workspace the way its first page load would (`dev.prewarm` of the template): in the
 * project's own sandbox, as its own user, so what the dev server leaves (Vite's optimised dependencies,
 * keyed by the root `/workspace`) is valid for the project's real dev server later. Throws when it does not
 * finish; the workspace is usable either way.
 */
export async function prewarmWorkspace(
  driver: SandboxDriver,
  sandbox: SandboxSpec,
  manifest: TemplateManifest,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<number> {
  const warm = manifest.dev.prewarm;
  if (!warm) return 0;
  const command = devCommand(manifest, GUEST_PORT);
  const started = performance.now();
  const result = await driver.exec(
    { ...sandbox, network: "none" },
    {
      argv: ["node", "-e", WARM_SCRIPT],
      env: {
        ...command.env,
        PORT: String(GUEST_PORT),
        HOST: "127.0.0.1",
        KILN_WARM_ARGV: JSON.stringify(command.argv),
        KILN_WARM_PATHS: JSON.stringify(warm.paths),
        KILN_WARM_UNTIL: warm.until,
      },
      limits: { wallClockMs: options.timeoutMs ?? 60_000 },
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  if (result.exitCode !== 0) {
    const why = result.timedOut ? "timed out" : `exit ${result.exitCode ?? result.signal}`;
    throw new Error(`warming the workspace failed (${why}): ${result.stderr.trim().slice(-500)}`);
  }
  return Math.round(performance.now() - started);
}
