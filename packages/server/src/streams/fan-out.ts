/** Where a stream's events come from: the stored log of a job or a chat turn. */
export interface FeedSource<E extends { seq: number }> {
  /** Up to `page` events numbered after `after`, in order. */
  read(after: number): Promise<E[]>;
  /** The newest number stored, and whether nothing will follow it; null once the thing is gone. */
  status(): Promise<{ last: number; over: boolean } | null>;
}

export interface FanOutOptions {
  /** How many events `read` returns at most (a full page means: read again at once). */
  page: number;
  /** How often a feed looks at the database when nothing woke it (another replica writes the events). */
  pollMs: number;
  /**
   * Failures to wait out rather than end the streams with (the database restarting): reads are retried
   * for up to `patienceMs` (default a minute) while someone still follows.
   */
  transient?: (err: unknown) => boolean;
  patienceMs?: number;
}

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 2000;

type Ended = { last: number } | { error: unknown };

interface Follower<E> {
  push(event: E): void;
  end(how: Ended): void;
}

interface Feed<E> {
  readonly followers: Set<Follower<E>>;
  dirty: boolean;
  wake: () => void;
}

/**
 * Serves every follower of one stored event log (a job, a chat turn) from one poller: while a log has
 * followers, one loop reads what is new (when woken, or every `pollMs`) and hands it to each of them; it
 * stops when the log is over or its last follower leaves. So a thousand open tabs on one job cost the
 * database what one costs.
 *
 * Each follower starts from its own position (Last-Event-ID): it replays the stored events itself, then
 * takes the shared feed, dropping what it already sent; if the feed ever runs ahead of it (it joined
 * while the poller was between reads) it reads the missing stretch from the database again. Events reach
 * it in order, without gaps or repeats.
 */
export class FanOut<E extends { seq: number }> {
  readonly #o: FanOutOptions;
  readonly #feeds = new Map<string, Feed<E>>();
  #closed = false;

  constructor(options: FanOutOptions) {
    this.#o = options;
  }

  /** Feeds running now (one per log with followers). */
  get feeds(): number {
    return this.#feeds.size;
  }

  /** Something new was stored for `key`: its poller reads now instead of at its next tick. */
  wake(key: string): void {
    const feed = this.#feeds.get(key);
    if (!feed) return;
    feed.dirty = true;
    feed.wake();
  }

  /** Ends every follower where it is (server shutdown). */
  close(): void {
    this.#closed = true;
    for (const feed of this.#feeds.values()) {
      for (const f of feed.followers) f.end({ last: -1 });
      feed.followers.clear();
      feed.wake();
    }
  }

  /**
   * Sends `emit` the events of `key` after `after`, then live until the log is over, `emit` returns true
   * (the follower has seen its last event), or `signal` aborts.
   */
  async follow(
    key: string,
    source: FeedSource<E>,
    after: number,
    emit: (event: E) => unknown,
    signal: AbortSignal,
  ): Promise<void> {
    let sent = after;
    const pending: E[] = [];
    let ended: Ended | undefined;
    let notify: () => void = () => {};
    const follower: Follower<E> = {
      push: (e) => {
        pending.push(e);
        notify();
      },
      end: (how) => {
        ended ??= how;
        notify();
      },
    };
    /** Sends `e` unless already sent; "gap" when events before it were never seen (unless `anyway`). */
    const next = (e: E, anyway = false): "sent" | "done" | "gap" => {
      if (e.seq <= sent) return "sent";
      if (e.seq > sent + 1 && !anyway) return "gap";
      sent = e.seq;
      return emit(e) === true ? "done" : "sent";
    };
    /** Reads the stored events after `sent` up to the newest; true when the follower is done. */
    const catchUp = async (): Promise<boolean> => {
      for (;;) {
        const events = await this.#patiently(
          () => source.read(sent),
          () => !signal.aborted,
        );
        // Stored numbers may have holes (compacted or pruned events): what the log holds is the truth.
        for (const e of events) if (next(e, true) === "done") return true;
        if (events.length < this.#o.page || signal.aborted) return false;
      }
    };
    // Aborted already (a JSON read, or a shutdown): one page of what is stored, no feed.
    if (this.#closed || signal.aborted) {
      await catchUp();
      return;
    }
    const feed = this.#join(key, source, follower);
    const onAbort = () => notify();
    signal.addEventListener("abort", onAbort);
    try {
      if (await catchUp()) return;
      // After a catch-up, a hole before the next live event is one the log has too: send it anyway.
      let caughtUp = false;
      for (;;) {
        let gap = false;
        while (pending.length > 0 && !gap) {
          const fresh = pending[0]!.seq > sent;
          const outcome = next(pending[0]!, caughtUp);
          if (fresh) caughtUp = false;
          if (outcome === "done") return;
          if (outcome === "gap") gap = true;
          else pending.shift();
        }
        if (gap) {
          if (await catchUp()) return;
          caughtUp = true;
          continue;
        }
        if (signal.aborted) return;
        if (ended) {
          if ("error" in ended) throw ended.error;
          if (sent < ended.last) await catchUp();
          return;
        }
        await new Promise<void>((resolve) => {
          notify = resolve;
        });
        notify = () => {};
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      feed.followers.delete(follower);
      if (feed.followers.size === 0) feed.wake();
    }
  }

  #join(key: string, source: FeedSource<E>, follower: Follower<E>): Feed<E> {
    const running = this.#feeds.get(key);
    if (running) {
      running.followers.add(follower);
      return running;
    }
    const feed: Feed<E> = { followers: new Set([follower]), dirty: false, wake: () => {} };
    this.#feeds.set(key, feed);
    void this.#poll(key, feed, source);
    return feed;
  }

  async #patiently<T>(fn: () => Promise<T>, alive: () => boolean): Promise<T> {
    const until = Date.now() + (this.#o.patienceMs ?? 60_000);
    let wait = RETRY_FIRST_MS;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!this.#o.transient?.(err) || Date.now() + wait > until || !alive()) throw err;
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(wait * 2, RETRY_MAX_MS);
      }
    }
  }

  async #poll(key: string, feed: Feed<E>, source: FeedSource<E>): Promise<void> {
    const stop = (how: Ended) => {
      if (this.#feeds.get(key) === feed) this.#feeds.delete(key);
      for (const f of feed.followers) f.end(how);
    };
    const alive = () => feed.followers.size > 0 && !this.#closed;
    try {
      const first = await this.#patiently(() => source.status(), alive);
      if (!first) return stop({ last: 0 });
      let head = first.last;
      if (first.over) return stop({ last: head });
      for (;;) {
        // Checked with no await before the delete, so a follower joining now finds either this feed
        // (and is served) or none (and starts the next one).
        if (feed.followers.size === 0 || this.#closed) {
          if (this.#feeds.get(key) === feed) this.#feeds.delete(key);
          return;
        }
        feed.dirty = false;
        const events = await this.#patiently(() => source.read(head), alive);
        for (const e of events) {
          head = e.seq;
          for (const f of feed.followers) f.push(e);
        }
        if (events.length >= this.#o.page) continue;
        const now = await this.#patiently(() => source.status(), alive);
        if (!now) return stop({ last: head });
        if (now.over && now.last <= head) return stop({ last: head });
        if (feed.dirty || now.last > head) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#o.pollMs);
          feed.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        feed.wake = () => {};
      }
    } catch (err) {
      stop({ error: err });
    }
  }
}
