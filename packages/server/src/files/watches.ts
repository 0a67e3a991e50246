import { realpath } from "node:fs/promises";
import { type ChangeBatch, ProjectWatcher, type WatcherOptions } from "./watcher.ts";

type Listener = (batch: ChangeBatch) => void;

interface Entry {
  listeners: Set<Listener>;
  /** The watcher once every directory is watched. */
  ready: Promise<ProjectWatcher>;
}

/**
 * One `ProjectWatcher` per project directory while anyone listens (open editors), shared by all of them
 * and closed with the last one.
 */
export class FileWatches {
  readonly #entries = new Map<string, Entry>();
  readonly #options: WatcherOptions;

  constructor(options: WatcherOptions = {}) {
    this.#options = options;
  }

  /** Resolves when changes from now on reach `listener`; call the returned function to stop. */
  async subscribe(dir: string, listener: Listener): Promise<() => void> {
    let entry = this.#entries.get(dir);
    if (!entry) {
      const listeners = new Set<Listener>();
      const ready = realpath(dir).then(async (real) => {
        const watcher = new ProjectWatcher(
          real,
          (batch) => {
            for (const l of listeners) l(batch);
          },
          this.#options,
        );
        await watcher.start();
        return watcher;
      });
      entry = { listeners, ready };
      this.#entries.set(dir, entry);
    }
    const current = entry;
    current.listeners.add(listener);
    try {
      await current.ready;
    } catch (err) {
      this.#release(dir, current, listener);
      throw err;
    }
    return () => this.#release(dir, current, listener);
  }

  /** Directories watched now, over all projects (for tests and metrics). */
  get watching(): number {
    return this.#entries.size;
  }

  close(): void {
    for (const [dir, entry] of this.#entries) {
      this.#entries.delete(dir);
      void entry.ready.then((w) => w.close()).catch(() => {});
    }
  }

  #release(dir: string, entry: Entry, listener: Listener): void {
    entry.listeners.delete(listener);
    if (entry.listeners.size > 0 || this.#entries.get(dir) !== entry) return;
    this.#entries.delete(dir);
    void entry.ready.then((w) => w.close()).catch(() => {});
  }
}
