// Preloaded (`--import`) into the one dev-server start that primes a template's compile cache
// (compile-cache.ts). Node writes its compile cache at a normal exit, which a dev server stopped by a
// signal never reaches: write it on SIGTERM, then exit.
import module from "node:module";

process.on("SIGTERM", () => {
  module.flushCompileCache?.();
  process.exit(0);
});
