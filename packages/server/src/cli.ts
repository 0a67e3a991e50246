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
if (command === "start" || command === "migrate") {
  try {
    module.enableCompileCache(path.resolve(process.env.KILN_DATA_DIR || ".kiln", "cache", "node-compile"));
  } catch {
    // No cache is only slower.
  }
}
await import("./commands.ts");
