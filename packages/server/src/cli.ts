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
 * V8 flags for a server's memory, fixed when the process starts (bench/startup.ts measures both):
 * - V8 sizes the young generation from the machine's memory: on a 24 GB machine its semi-spaces grow to 64 MB
 *   each during start-up and stay there, about 120 MB of an idle server's RSS; 16 MB is Node 20's default.
 * - `--liftoff-only`: embedded PGlite is a 9 MB WASM module, and V8's optimizing tier (TurboFan) recompiles
 *   its hot functions in the background during start-up, on cores the start-up needs, and keeps the result:
 *   about 120 MB of RSS. Its baseline code answered PGlite's queries as fast here (the difference is lost in
 *   the protocol and JS around each query); only WASM is affected, and Kiln runs no other WASM.
 * `kiln start` re-executes itself with the flags (the same process: pid, stdio and signals stay) unless it was
 * given them — `npm start` gives them, saving the second Node start (~50 ms quiet). `execve`: Node ≥ 23.11.
 */
const SERVER_FLAGS = ["--max-semi-space-size=16", "--liftoff-only"];
const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never })
  .execve;
const given = (flag: string) => {
  const name = flag.split("=")[0]!;
  return process.execArgv.some((a) => a.startsWith(name)) || !!process.env.NODE_OPTIONS?.includes(name);
};
const missing = SERVER_FLAGS.filter((flag) => !given(flag));
if (command === "start" && execve && missing.length > 0) {
  execve(
    process.execPath,
    [process.execPath, ...missing, ...process.execArgv, ...process.argv.slice(1)],
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
