import type { FileChange } from "@kiln/protocol";

export type FileChangeListener = (change: FileChange) => void;

/**
 * In-process bus for file changes made through the file API: the runtime (dev-server restarts) and git
 * subscribe here. Changes by anyone, including processes inside the sandbox, reach the studio through the
 * watcher behind `GET …/files/events` (`watches.ts`, ADR 0015).
 */
export class FileEvents {
  readonly #listeners = new Set<FileChangeListener>();

  /** Returns the unsubscribe function. */
  on(listener: FileChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(change: FileChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch {
        // A subscriber's failure is its own; the write it hears about has already happened.
      }
    }
  }
}
