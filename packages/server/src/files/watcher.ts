import { constants, type FSWatcher, watch } from "node:fs";
import { lstat, open, readdir, readlink } from "node:fs/promises";
import path from "node:path";

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;

/** One batch of changes: project-relative paths, or `overflow` when too much changed to list. */
export interface ChangeBatch {
  paths: string[];
  overflow: boolean;
}

export interface WatcherOptions {
  /** Directories watched at most (one inotify watch each); past it, changes are reported as overflow. */
  maxDirectories?: number;
  /** Changes are gathered this long before a batch goes out (an `npm install` is thousands of events). */
  debounceMs?: number;
  /** Paths listed per batch at most; more is an overflow. */
  maxPaths?: number;
}

/** Subtrees that are not the user's edits: dependencies, git's internals, Kiln's caches in the project. */
const SKIPPED = new Set(["node_modules", ".git"]);
const SKIPPED_AT_ROOT = new Set([".kiln"]);
/** The file API's atomic-write temp files (`project-root.ts`): not changes anyone made. */
const TEMP_FILE = /\.kiln-[0-9a-f]{12}\.tmp$/;

/**
 * Watches a project directory for changes by anyone — the file API, the agent's commands, the terminal,
 * `npm install` — with one inotify watch per directory, skipping dependency and git trees.
 *
 * Code in the sandbox can change the directory while it is watched, so no path is trusted: each directory
 * is opened with O_NOFOLLOW|O_DIRECTORY, checked to be where the watcher expects inside the project, and
 * watched through its descriptor (`/proc/self/fd/N`), never through a path a symlink could redirect.
 */
export class ProjectWatcher {
  readonly #root: string;
  readonly #onBatch: (batch: ChangeBatch) => void;
  readonly #max: number;
  readonly #debounceMs: number;
  readonly #maxPaths: number;
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #inodes = new Map<string, number>();
  readonly #pending = new Set<string>();
  #overflow = false;
  /** Directories being opened right now (they count against the limit). */
  #adding = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  /** `root` must be the project directory's real path. */
  constructor(root: string, onBatch: (batch: ChangeBatch) => void, options: WatcherOptions = {}) {
    this.#root = root;
    this.#onBatch = onBatch;
    this.#max = options.maxDirectories ?? 4_000;
    this.#debounceMs = options.debounceMs ?? 50;
    this.#maxPaths = options.maxPaths ?? 500;
  }

  /** Resolves once every existing directory is watched: changes from then on are reported. */
  async start(): Promise<void> {
    await this.#add("");
  }

  get directories(): number {
    return this.#watchers.size;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }

  async #add(rel: string): Promise<void> {
    if (this.#closed || this.#watchers.has(rel)) return;
    // Counted before the first await: concurrent events must not all pass the limit together.
    if (this.#watchers.size + this.#adding >= this.#max) {
      this.#overflow = true;
      this.#schedule();
      return;
    }
    this.#adding++;
    let subdirectories: string[] = [];
    try {
      subdirectories = await this.#watch(rel);
    } finally {
      this.#adding--;
    }
    await Promise.all(subdirectories.map((name) => this.#add(rel ? `${rel}/${name}` : name)));
  }

  /** Watches one directory; returns the names of the subdirectories to watch next. */
  async #watch(rel: string): Promise<string[]> {
    const expected = rel ? path.join(this.#root, rel) : this.#root;
    const handle = await open(expected, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch(() => undefined);
    if (!handle) return []; // gone, or a symlink: never followed
    try {
      const fdPath = `/proc/self/fd/${handle.fd}`;
      // Renamed or swapped between the event and the open: not the directory this path names any more.
      if ((await readlink(fdPath).catch(() => "")) !== expected) return [];
      const { ino } = await handle.stat();
      // Closed, or added meanwhile by a concurrent event; from here on nothing awaits until it is in the map.
      if (this.#closed || this.#watchers.has(rel)) return [];
      this.#inodes.set(rel, ino);
      const watcher = watch(fdPath, { persistent: false }, (_type, name) => this.#changed(rel, name));
      watcher.on("error", () => this.#drop(rel));
      this.#watchers.set(rel, watcher);
      const entries = await readdir(fdPath, { withFileTypes: true }).catch(() => []);
      return entries.filter((e) => e.isDirectory() && !skipped(rel, e.name)).map((e) => e.name);
    } finally {
      // Closed before going deeper: a wide tree must not hold a descriptor per directory at once.
      await handle.close();
    }
  }

  #changed(dir: string, name: string | Buffer | null): void {
    if (this.#closed || !this.#watchers.has(dir)) return;
    if (name === null) {
      // The kernel's queue overflowed (or a name it cannot give): the client should reload everything.
      this.#overflow = true;
      this.#schedule();
      return;
    }
    const entry = String(name);
    if (TEMP_FILE.test(entry)) return;
    const rel = dir ? `${dir}/${entry}` : entry;
    this.#pending.add(rel);
    this.#schedule();
    if (!skipped(dir, entry)) void this.#refresh(rel);
  }

  /** A directory that appeared is watched from now on; one that went away or was replaced is dropped. */
  async #refresh(rel: string): Promise<void> {
    if (!this.#watchers.has(rel)) return this.#add(rel);
    const st = await lstat(path.join(this.#root, rel)).catch(() => undefined);
    if (st?.isDirectory() && st.ino === this.#inodes.get(rel)) return;
    this.#drop(rel);
    if (st?.isDirectory()) await this.#add(rel);
  }

  /** Stops watching `rel` and everything below it. */
  #drop(rel: string): void {
    for (const [key, watcher] of this.#watchers) {
      if (key === rel || key.startsWith(`${rel}/`)) {
        watcher.close();
        this.#watchers.delete(key);
        this.#inodes.delete(key);
      }
    }
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const overflow = this.#overflow || this.#pending.size > this.#maxPaths;
      const paths = overflow ? [] : [...this.#pending].sort();
      this.#pending.clear();
      this.#overflow = false;
      this.#onBatch({ paths, overflow });
    }, this.#debounceMs);
  }
}

function skipped(parent: string, name: string): boolean {
  return SKIPPED.has(name) || (parent === "" && SKIPPED_AT_ROOT.has(name));
}
