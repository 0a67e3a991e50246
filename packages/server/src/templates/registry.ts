import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { type Template, TemplateManifest } from "@kiln/protocol";
import { BadRequestError } from "../errors/errors.ts";

/** A template on disk: its validated manifest and the directory it lives in. */
export interface LoadedTemplate {
  manifest: TemplateManifest;
  dir: string;
}

/** The templates Kiln can create projects from: `<templatesDir>/<name>/kiln.json`, read once at start-up. */
export class TemplateRegistry {
  readonly #templates: Map<string, LoadedTemplate>;

  constructor(templates: LoadedTemplate[]) {
    this.#templates = new Map(templates.map((t) => [t.manifest.name, t]));
  }

  /** Reads and validates every manifest; a broken template stops start-up rather than failing later. */
  static async load(templatesDir: string): Promise<TemplateRegistry> {
    const entries = await readdir(templatesDir, { withFileTypes: true });
    const templates: LoadedTemplate[] = [];
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(templatesDir, entry.name);
      if (!existsSync(path.join(dir, "kiln.json"))) continue;
      templates.push(await loadTemplate(dir));
    }
    return new TemplateRegistry(templates);
  }

  list(): Template[] {
    return [...this.#templates.values()].map(({ manifest: m }) => ({
      name: m.name,
      title: m.title,
      description: m.description,
    }));
  }

  all(): LoadedTemplate[] {
    return [...this.#templates.values()];
  }

  get(name: string): LoadedTemplate {
    const template = this.#templates.get(name);
    if (!template) throw new BadRequestError("template_not_found", `no template named "${name}"`);
    return template;
  }
}

/** Loads one template directory; throws with the file and the problems when the manifest is invalid. */
export async function loadTemplate(dir: string): Promise<LoadedTemplate> {
  const file = path.join(dir, "kiln.json");
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new Error(`${file}: not valid JSON`, { cause: err });
  }
  const parsed = TemplateManifest.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new Error(`${file}: ${problems.join("; ")}`);
  }
  const manifest = parsed.data;
  const problems: string[] = [];
  if (manifest.name !== path.basename(dir)) problems.push(`name "${manifest.name}" differs from its folder`);
  for (const rel of [...manifest.readFirst, ...(manifest.install ? [manifest.install.lockfile] : [])]) {
    if (!existsSync(path.join(dir, rel))) problems.push(`${rel} does not exist`);
  }
  if (manifest.install && !existsSync(path.join(dir, "package.json")))
    problems.push("install needs package.json");
  if (problems.length > 0) throw new Error(`${file}: ${problems.join("; ")}`);
  return { manifest, dir };
}

/** The dev command of a template for a given port: argv and environment, as the runtime should run it. */
export function devCommand(
  manifest: TemplateManifest,
  port: number = manifest.dev.port.default,
): { argv: string[]; env: Record<string, string> } {
  const { argv, env, port: how } = manifest.dev;
  return {
    argv: how.flag ? [...argv, how.flag, String(port)] : [...argv],
    env: {
      ...compileCacheEnv(manifest),
      ...env,
      ...(how.env ? { [how.env]: String(port) } : {}),
    },
  };
}

/**
 * Node's compile cache for the dev command (`install.compileCache`), relative to the project directory
 * the command runs in. Portable: entries are keyed by paths relative to the cache, so the ones Kiln primed
 * in the dependency cache are valid in every project that links them, wherever it lives.
 */
export function compileCacheEnv(manifest: TemplateManifest): Record<string, string> {
  const dir = manifest.install?.compileCache;
  return dir ? { NODE_COMPILE_CACHE: dir, NODE_COMPILE_CACHE_PORTABLE: "1" } : {};
}
