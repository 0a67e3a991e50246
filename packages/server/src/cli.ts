#!/usr/bin/env node
/**
 * `kiln`: turns on Node's compile cache before the server's modules load — Node strips the types of a few
 * hundred TypeScript files at every start, and the cache keeps the result (and V8's code cache) between
 * starts: about half of a restart's time on a two-core machine (bench/startup.ts). The cache lives under the
 * data dir, a directory Kiln owns, not in the shared temporary directory where another local user could plant
 * code for it to load.
 */
import module from "node:module";
import path from "node:path";

const command = process.argv[2];
/**
 * V8 sizes the young generation from the machine's memory: on this 24 GB machine its semi-spaces grow to
 * 64 MB each during start-up and stay there, about 120 MB of an idle server's RSS (bench/startup.ts). 16 MB
 * (Node 20's default) keeps it. The size is fixed when the heap is made, so `kiln` re-executes itself with
 * the flag (the same process: pid, stdio and signals stay) unless it was given one — `npm start` gives it,
 * saving the second Node start (~50 ms quiet). `execve` is Node ≥ 23.11.
 */
const SEMI_SPACE_FLAG = "--max-semi-space-size";
const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never })
  .execve;
if (
  command === "start" &&
  execve &&
  !process.execArgv.some((a) => a.startsWith(SEMI_SPACE_FLAG)) &&
  !process.env.NODE_OPTIONS?.includes(SEMI_SPACE_FLAG)
) {
  execve(
    process.execPath,
    [process.execPath, `${SEMI_SPACE_FLAG}=16`, ...process.execArgv, ...process.argv.slice(1)],
    process.env,
  );
}
if (command === "start" || command === "migrate") {
  try {
    module.enableCompileCache(path.resolve(process.env.KILN_DATA_DIR || ".kiln", "cache", "node-compile"));
  } catch {
    // No cache is only slower.
  }
}
await import("./commands.ts");
