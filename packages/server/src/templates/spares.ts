import { randomUUID } from "node:crypto";
import { mkdir, rename } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { removeProjectTree, removeProjectTrees } from "../sandbox/as-owner.ts";
import type { CacheLog } from "./dependency-cache.ts";
import type { LoadedTemplate } from "./registry.ts";
import type { TemplateService } from "./service.ts";

type Owner = { uid: number; gid: number };

/** A project's files made ahead of time for an id no project has yet. */
export interface Spare {
  id: string;
  template: string;
  dir: string;
}

export interface SpareWorkspacesOptions {
  /** Where spares wait; on the filesystem of the projects (they are renamed into place). */
  root: string;
  templates: TemplateService;
  /** The sandbox owner of a project with this id (the runtime driver's `workspaceOwner`). */
  ownerOf: (projectId: string) => Owner | undefined;
  /** Spares kept ready per template. */
  perTemplate?: number;
  /** How long after a spare is taken the next is made: not while the new project's dev server starts. */
  refillDelayMs?: number;
  /**
   * How long after a project found no spare (its dev server starting cold, seconds of CPU) a warm-up waits
   * before it begins; one under way then stops.
   */
  quietAfterMissMs?: number;
  /**
   * Warms a spare of a template with `dev.prewarm` (its dev server run once in its sandbox); a failure
   * leaves the spare as it is, still good.
   */
  warm?: (spare: Spare, template: LoadedTemplate, signal: AbortSignal) => Promise<number>;
  log?: CacheLog;
}

/**
 * Spare workspaces (ADR 0014): for each template, a project directory made in advance — files, `.gitignore`,
 * `node_modules` linked, the first commit, everything owned by the sandbox user of a project id chosen now.
 * Creating a project from the template takes the spare and its id: one rename instead of linking a thousand
 * files, so the dev server starts at once. Git is never run on a spare after its warm-up had it in a sandbox.
 *
 * Spares are made by `fill` (after `kiln start` has warmed the dependency caches) and again a while after
 * one is taken. They never outlive a start (templates may have changed): the first `fill` clears the
 * directory. Taking one is best effort — a spare another replica removed meanwhile just means the project
 * is made the ordinary way.
 */
export class SpareWorkspaces {
  readonly #o: Required<Omit<SpareWorkspacesOptions, "log" | "warm">> &
    Pick<SpareWorkspacesOptions, "log" | "warm">;
  readonly #abort = new AbortController();
  readonly #ready = new Map<string, Spare[]>();
  readonly #making = new Map<string, Promise<void>>();
  /** Warm-ups under way, each stoppable on its own (`claim` with no spare ready stops them). */
  readonly #warming = new Set<AbortController>();
  /** When a project last found no spare ready (its dev server is starting cold). */
  #missedAt = Number.NEGATIVE_INFINITY;
  #cleared = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: SpareWorkspacesOptions) {
    this.#o = { perTemplate: 1, refillDelayMs: 10_000, quietAfterMissMs: 5_000, ...options };
  }

  /** Spares ready per template (for tests and logs). */
  count(template: string): number {
    return this.#ready.get(template)?.length ?? 0;
  }

  /** Makes spares up to `perTemplate` for every template. Never throws: a failure is logged. */
  async fill(): Promise<void> {
    if (!this.#cleared) {
      this.#cleared = true;
      // Leftovers of an earlier run were warmed in their sandboxes: each goes as its own user.
      await removeProjectTrees(this.#o.root, this.#o.ownerOf).catch(() => {});
    }
    for (const template of this.#o.templates.registry.all()) await this.#fillOne(template.manifest.name);
  }

  /**
   * Takes a spare of the template when one is ready; its id is to become the project's id. With none ready,
   * the project is made the ordinary way and its dev server starts cold at once: a warm-up under way (a
   * whole dev server in another sandbox, seconds of CPU on a fresh instance) would take half the machine
   * from it, so it stops (its spare is kept unwarmed), and warm-ups that would begin meanwhile wait until
   * that start is over (`quietAfterMissMs`).
   */
  claim(template: string): Spare | undefined {
    const spare = this.#ready.get(template)?.shift();
    if (spare) this.#refillLater();
    else {
      this.#missedAt = performance.now();
      for (const warming of this.#warming) warming.abort(new Error("a project needs the CPU"));
    }
    return spare;
  }

  /** Moves a claimed spare to the project's directory; false when it is gone (the caller makes the files). */
  async adopt(spare: Spare, projectDir: string): Promise<boolean> {
    await mkdir(path.dirname(projectDir), { recursive: true });
    try {
      await rename(spare.dir, projectDir);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
  }

  /** A claimed spare that was not used (the project could not be created). */
  async discard(spare: Spare): Promise<void> {
    await removeProjectTree(spare.dir, this.#o.ownerOf(spare.id));
  }

  close(): void {
    this.#closed = true;
    this.#abort.abort();
    clearTimeout(this.#timer);
  }

  /** One fill per template at a time; a second caller waits for the one under way (it ends with spares ready). */
  #fillOne(name: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    let making = this.#making.get(name);
    if (!making) {
      making = this.#make(name).finally(() => this.#making.delete(name));
      this.#making.set(name, making);
    }
    return making;
  }

  async #make(name: string): Promise<void> {
    const template = this.#o.templates.get(name);
    const ready = this.#ready.get(name) ?? [];
    this.#ready.set(name, ready);
    while (ready.length < this.#o.perTemplate && !this.#closed) {
      const id = randomUUID();
      const dir = path.join(this.#o.root, id);
      try {
        await mkdir(dir, { recursive: true, mode: 0o750 });
        await this.#o.templates.prepareFiles(template, dir, this.#o.ownerOf(id));
      } catch (err) {
        await removeProjectTree(dir, this.#o.ownerOf(id)).catch(() => {});
        this.#o.log?.warn({ err, template: name }, "could not make a spare workspace");
        return;
      }
      const spare = { id, template: name, dir };
      if (template.manifest.dev.prewarm && this.#o.warm) await this.#warm(spare, template);
      if (this.#closed) {
        await removeProjectTree(dir, this.#o.ownerOf(id)).catch(() => {});
        return;
      }
      ready.push(spare);
    }
  }

  /**
   * Warms a spare, first waiting out a project's cold start (`quietAfterMissMs` after a project found no
   * spare; once, so that creates in a row cannot hold a spare back for long). A warm-up such a project
   * stops keeps its spare unwarmed: still good, and ready at once. Never throws.
   */
  async #warm(spare: Spare, template: LoadedTemplate): Promise<void> {
    const name = template.manifest.name;
    const wait = this.#quietIn();
    if (wait > 0) await sleep(wait, undefined, { signal: this.#abort.signal }).catch(() => {});
    if (this.#closed) return;
    const stop = new AbortController();
    this.#warming.add(stop);
    try {
      const ms = await this.#o.warm!(spare, template, AbortSignal.any([this.#abort.signal, stop.signal]));
      this.#o.log?.info({ template: name, ms }, "spare workspace warmed");
    } catch (err) {
      if (this.#closed) return;
      if (stop.signal.aborted)
        this.#o.log?.info({ template: name }, "spare workspace warm-up stopped for a new project");
      else this.#o.log?.warn({ err, template: name }, "could not warm a spare workspace");
    } finally {
      this.#warming.delete(stop);
    }
  }

  /** Ms until a project that found no spare has had its dev server's first start to itself. */
  #quietIn(): number {
    return this.#missedAt + this.#o.quietAfterMissMs - performance.now();
  }

  #refillLater(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.fill();
    }, this.#o.refillDelayMs);
    this.#timer.unref();
  }
}
