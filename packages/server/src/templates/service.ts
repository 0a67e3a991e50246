import type { Template } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import { copyTemplate, writeGitignore } from "./copy.ts";
import { type CacheLog, DependencyCache } from "./dependency-cache.ts";
import { initRepository } from "./git.ts";
import type { LoadedTemplate, TemplateRegistry } from "./registry.ts";

/** Templates as a domain: list them, prepare their dependencies, and turn one into a project's files. */
export class TemplateService {
  readonly registry: TemplateRegistry;
  readonly cache: DependencyCache;
  readonly #log: CacheLog | undefined;

  constructor(registry: TemplateRegistry, cacheDir: string, log?: CacheLog) {
    this.registry = registry;
    this.cache = new DependencyCache(cacheDir, log);
    this.#log = log;
  }

  list(): Template[] {
    return this.registry.list();
  }

  /** Throws `template_not_found` (400) for an unknown name. */
  get(name: string): LoadedTemplate {
    return this.registry.get(name);
  }

  /** Builds the template's dependency cache if needed; slow only the first time for a lockfile. */
  async prepare(template: LoadedTemplate): Promise<void> {
    if (!template.manifest.install) return;
    try {
      await this.cache.ensure(template);
    } catch (err) {
      // Most likely the package registry is unreachable; the next attempt installs again.
      this.#log?.warn({ err, template: template.manifest.name }, "could not install template dependencies");
      throw new KilnError(
        "unavailable",
        503,
        "the template's dependencies could not be installed; try again",
        {
          cause: err,
        },
      );
    }
  }

  /**
   * Fills an empty project directory: the template's files, Kiln's `.gitignore`, a git repository with one
   * commit on `main`, and `node_modules` linked from the cache (ignored by git, so both run together).
   */
  async materialize(template: LoadedTemplate, projectDir: string): Promise<void> {
    await copyTemplate(template.dir, projectDir);
    await writeGitignore(projectDir, template.manifest);
    await Promise.all([
      initRepository(projectDir, `Create project from the ${template.manifest.name} template`),
      template.manifest.install ? this.cache.linkInto(template, projectDir) : undefined,
    ]);
  }

  /**
   * Installs every template's dependency cache in the background, so the first project does not wait for
   * npm. Failures are logged, not thrown: creating a project retries the install.
   */
  warmTemplateCaches(): Promise<void> {
    const started = performance.now();
    const work = this.registry
      .all()
      .filter((t) => t.manifest.install)
      .map(async (t) => {
        try {
          await this.cache.ensure(t);
        } catch (err) {
          this.#log?.warn({ err, template: t.manifest.name }, "could not install template dependencies");
        }
      });
    return Promise.all(work).then(() => {
      this.#log?.info({ ms: Math.round(performance.now() - started) }, "template caches warm");
    });
  }

  close(): void {
    this.cache.close();
  }
}
