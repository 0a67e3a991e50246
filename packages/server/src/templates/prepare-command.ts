import type { KilnConfig } from "../config.ts";
import { openSandboxDriver } from "../sandbox/index.ts";
import { SANDBOX_UID } from "../sandbox/sandbox-root.ts";
import { TemplateRegistry } from "./registry.ts";
import { TemplateService } from "./service.ts";

/**
 * `kiln prepare-templates` (run by `npm install`'s postinstall): builds every template's dependency cache
 * into the install-time cache (`installedTemplateCacheDir`, ADR 0007), so a fresh instance's first project
 * links its `node_modules` at once instead of waiting for `npm ci`. The entry is keyed like `kiln start`'s
 * (the sandbox's guest uid for the primed compile cache, this Node's version), so it is only used by a
 * start that would have built the same. Never fails the install: without it, `kiln start` builds its own.
 */
export async function prepareTemplates(config: KilnConfig, out: (line: string) => void): Promise<void> {
  const dir = config.installedTemplateCacheDir;
  if (!dir) {
    out("KILN_INSTALLED_TEMPLATE_CACHE_DIR is empty: no template caches prepared");
    return;
  }
  const started = performance.now();
  const guestUid = await expectedGuestUid(config);
  const log = {
    info: (obj: object, msg: string) => out(`${msg} ${JSON.stringify(obj)}`),
    warn: (obj: object, msg: string) => out(`warning: ${msg} ${JSON.stringify(obj, errorText)}`),
  };
  const templates = new TemplateService(await TemplateRegistry.load(config.templatesDir), dir, log, {
    guestUid,
  });
  try {
    await templates.warmTemplateCaches();
  } finally {
    templates.close();
  }
  out(`template caches in ${dir} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

/**
 * The guest uid `kiln start` will run dev servers as (part of the cache key): its driver's when the sandbox
 * works now; as root without one, the sandbox's anyway — on a fresh machine `npm install` runs before
 * `npm start`'s prestart installs bubblewrap; otherwise this user's (the unsandboxed drivers run as it).
 */
export async function expectedGuestUid(config: KilnConfig): Promise<number> {
  const me = process.getuid?.() ?? 0;
  try {
    const { driver } = await openSandboxDriver({ allowUnsandboxed: config.allowUnsandboxed });
    driver.close?.();
    return driver.guestUid;
  } catch {
    return me === 0 ? SANDBOX_UID : me;
  }
}

function errorText(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}
