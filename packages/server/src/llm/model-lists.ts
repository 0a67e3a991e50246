import { fetchModelList, type ListedModel, type ProviderSpec } from "./provider-factory.ts";

interface Entry {
  at: number;
  models?: ListedModel[];
  error?: string;
  pending?: Promise<void>;
}

const FRESH_MS = 5 * 60_000;
const FAILED_MS = 30_000;
const MAX_ENTRIES = 5_000;

/**
 * Providers' own model lists, cached briefly per provider configuration (a changed key or URL is a new
 * cache key). A failed listing is remembered for a short while so a dead endpoint is not asked on every
 * page view. Concurrent callers share one request.
 */
export class ModelLists {
  readonly #entries = new Map<string, Entry>();
  readonly #fetchList: typeof fetchModelList;

  constructor(fetchList: typeof fetchModelList = fetchModelList) {
    this.#fetchList = fetchList;
  }

  async get(spec: ProviderSpec): Promise<{ models: ListedModel[]; error: string | null }> {
    const now = Date.now();
    let entry = this.#entries.get(spec.cacheKey);
    const fresh = entry && now - entry.at < (entry.error === undefined ? FRESH_MS : FAILED_MS);
    if (!entry || (!fresh && !entry.pending)) {
      const next: Entry = entry ? { ...entry } : { at: 0 };
      next.pending = this.#fetchList(spec).then(
        (models) => {
          Object.assign(next, { at: Date.now(), models, error: undefined, pending: undefined });
        },
        (err: unknown) => {
          // Keep the last good list; say why it may be stale.
          Object.assign(next, { at: Date.now(), error: describe(err), pending: undefined });
        },
      );
      this.#set(spec.cacheKey, next);
      entry = next;
    }
    if (entry.pending && !entry.models) await entry.pending;
    return { models: entry.models ?? [], error: entry.error ?? null };
  }

  /** The cached list, if any, without asking the provider. */
  peek(spec: ProviderSpec): ListedModel[] | undefined {
    return this.#entries.get(spec.cacheKey)?.models;
  }

  /** Drops every list cached under a key prefix (an org's, when it is deleted). */
  forget(prefix: string): void {
    for (const key of this.#entries.keys()) if (key.startsWith(prefix)) this.#entries.delete(key);
  }

  #set(key: string, entry: Entry): void {
    if (this.#entries.size >= MAX_ENTRIES && !this.#entries.has(key)) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, entry);
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    const text = err.name === "TimeoutError" ? "timed out" : err.message;
    return (cause ? `${text} (${cause})` : text).slice(0, 300);
  }
  return String(err).slice(0, 300);
}
