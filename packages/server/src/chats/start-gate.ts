/**
 * How many turns of this server do their start-up work (stored rows, history, prompt) at once; the rest
 * wait their turn in arrival order. The work is the same either way, but with every start interleaved —
 * one database statement each in turn, on one embedded database or a small pool — all of them finish near
 * the end: 1,000 turns sent at once saw their first token after 27 s at the median, not half of that
 * (bench/agent.ts, part c). Started turns stream meanwhile; the gate only orders the starts.
 */
export const TURN_STARTS_AT_ONCE = 4;

/** A first-come, first-served limit on concurrent async work. */
export class StartGate {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`gate size must be a positive integer: ${size}`);
    this.#free = size;
  }

  /** Work waiting for a place (diagnostics and tests). */
  get waiting(): number {
    return this.#waiting.length;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}
