import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Vitest global setup for the e2e project: the browser tests need a current studio build. */
export default function setup(): void {
  const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../scripts/build-web.ts");
  const result = spawnSync(process.execPath, [script], { stdio: "inherit" });
  if (result.status !== 0) throw new Error("building the studio (packages/web) failed");
}
