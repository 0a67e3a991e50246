/**
 * The template dependency caches the benches share (KILN_TEMPLATE_CACHE_DIR, default
 * <tmp>/kiln-bench-template-cache), built before anything is timed: a server started on a fresh data dir
 * would otherwise run `npm ci` for every template in the background while the bench measures it.
 */
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../../packages/server/src/config.ts";
import { SANDBOX_UID } from "../../packages/server/src/sandbox/sandbox-root.ts";
import { TemplateRegistry } from "../../packages/server/src/templates/registry.ts";
import { TemplateService } from "../../packages/server/src/templates/service.ts";

export const BENCH_TEMPLATE_CACHE_DIR =
  process.env.KILN_TEMPLATE_CACHE_DIR ?? path.join(os.tmpdir(), "kiln-bench-template-cache");

/** Builds (or checks) every template's dependency cache; resolves with the seconds it took. */
export async function prepareTemplateCaches(env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  const config = loadConfig({ ...env, KILN_TEMPLATE_CACHE_DIR: BENCH_TEMPLATE_CACHE_DIR });
  const templates = new TemplateService(
    await TemplateRegistry.load(config.templatesDir),
    BENCH_TEMPLATE_CACHE_DIR,
    undefined,
    // The entry the server's sandbox driver uses (its compile cache is named for the sandbox's uid).
    { guestUid: SANDBOX_UID },
  );
  try {
    await templates.warmTemplateCaches();
  } finally {
    templates.close();
  }
  return (performance.now() - t0) / 1000;
}
