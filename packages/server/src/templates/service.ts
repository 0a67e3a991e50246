import type { Template } from "@kiln/protocol";
import { KilnError } from "../errors/errors.ts";
import { chownWorkspace } from "../sandbox/workspace-owner.ts";
import { copyTemplate, writeGitignore } from "./copy.ts";
import { type CacheLog, DependencyCache } from "./dependency-cache.ts";
import { FirstCommits } from "./first-commit.ts";
import type { LoadedTemplate, TemplateRegistry } from "./registry.ts";

/** Templates as a domain: list them, prepare their dependencies, and turn one into a project's files. */
export class TemplateService {
  readonly registry: TemplateRegistry;
  readonly cache: DependencyCache;
  readonly #log: CacheLog | undefined;
  readonly #firstCommits = new FirstCommits();

  constructor(
    registry: TemplateRegistry,
    cacheDir: string,
    log?: CacheLog,
    options: { guestUid?: number; installed?: string } = {},
  ) {
    this.registry = registry;
    this.cache = new DependencyCache(cacheDir, log, options);
    this.#log = log;
  }

  list(): Template[] {
    return this.registry.list();
  }

  /** `list`, with how far each template's dependency install is while one is under way (the studio shows it). */
  async listWithProgress(): Promise<Template[]> {
    return Promise.all(
      this.registry.list().map(async (t) => {
        const preparing = await this.cache.progress(this.registry.get(t.name));
        return preparing === undefined ? t : { ...t, preparing };
      }),
    );
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
      throw new KilnError("unavailable", "the template's dependencies could not be installed; try again", {
        cause: err,
      });
    }
  }

  /**
   * Fills an empty project directory: the template's files, Kiln's `.gitignore`, `node_modules` linked
   * from the cache (ignored by git), and a git repository with one commit on `main`. `onFiles` runs once all
   * of it is there and owned: a dev server may start on the files from then on.
   *
   * The repository is written by Kiln itself (`FirstCommits`), on a tree no sandboxed code has ever seen —
   * never by git after a sandbox had it, when its config and hooks are the tenant's. With `owner` (the
   * project's sandbox user) the tree is handed over by a descriptor walk before `onFiles`, root directory
   * last, so the sandbox's first start finds the workspace owned and skips its walk; linked dependencies
   * were handed over as they were linked.
   */
  async materialize(
    template: LoadedTemplate,
    projectDir: string,
    owner?: { uid: number; gid: number },
    onFiles?: () => void,
  ): Promise<void> {
    await this.#makeFiles(template, projectDir, owner);
    onFiles?.();
  }

  /**
   * What `materialize` makes, ahead of time for a project id no project has yet: a spare workspace
   * (`SpareWorkspaces`), committed and owned before its warm-up runs in a sandbox.
   */
  async prepareFiles(
    template: LoadedTemplate,
    dir: string,
    owner?: { uid: number; gid: number },
  ): Promise<void> {
    await this.#makeFiles(template, dir, owner);
  }

  async #makeFiles(
    template: LoadedTemplate,
    dir: string,
    owner: { uid: number; gid: number } | undefined,
  ): Promise<void> {
    const committed = copyTemplate(template.dir, dir)
      .then(() => writeGitignore(dir, template.manifest))
      .then(() => this.#firstCommits.write(template, dir, firstCommitMessage(template)));
    const linked = template.manifest.install ? this.cache.linkInto(template, dir, owner) : undefined;
    // Both settle before anything is reported: the caller removes the directory on failure.
    const [a, b] = await Promise.allSettled([committed, linked]);
    if (a.status === "rejected") throw a.reason;
    if (b.status === "rejected") throw b.reason;
    if (owner) {
      await chownWorkspace(dir, owner.uid, owner.gid, { prune: (rel) => rel === "node_modules" });
    }
  }

  /**
   * Installs every template's dependency cache in the background, so the first project does not wait for
   * npm, then removes entries no template uses any more. Failures are logged, not thrown: creating a
   * project retries the install.
   */
  async warmTemplateCaches(): Promise<void> {
    const started = performance.now();
    const templates = this.registry.all().filter((t) => t.manifest.install);
    await Promise.all(
      templates.map(async (t) => {
        try {
          await this.cache.ensure(t);
        } catch (err) {
          this.#log?.warn({ err, template: t.manifest.name }, "could not install template dependencies");
        }
      }),
    );
    this.#log?.info({ ms: Math.round(performance.now() - started) }, "template caches warm");
    try {
      const current = new Set(await Promise.all(templates.map((t) => this.cache.keyFor(t))));
      const removed = await this.cache.prune(current);
      if (removed.length > 0) this.#log?.info({ removed }, "removed unused template caches");
    } catch (err) {
      this.#log?.warn({ err }, "could not remove unused template caches");
    }
  }

  close(): void {
    this.cache.close();
  }
}

function firstCommitMessage(template: LoadedTemplate): string {
  return `Create project from the ${template.manifest.name} template`;
}
