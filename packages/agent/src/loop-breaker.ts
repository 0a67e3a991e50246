import { stableStringify } from "./text.ts";

export interface LoopDetectionOptions {
  /** The same call (tool + input) failing this many times stops the run (default 3). */
  maxIdenticalFailures?: number;
  /** The same call made this many times in a row, failing or not, stops the run (default 5). */
  maxIdenticalCalls?: number;
}

/**
 * Notices a model going round in circles. A failing call counts again only while nothing changed the
 * workspace in between: after a successful mutating call (an edit), running the same failing test
 * command is a fresh attempt, not a loop.
 */
export class LoopBreaker {
  readonly #maxFailures: number;
  readonly #maxRepeats: number;
  readonly #failures = new Map<string, number>();
  #lastKey: string | undefined;
  #streak = 0;

  constructor(options: LoopDetectionOptions = {}) {
    this.#maxFailures = options.maxIdenticalFailures ?? 3;
    this.#maxRepeats = options.maxIdenticalCalls ?? 5;
  }

  /** Records one finished call; returns why the run must stop, if it must. */
  record(
    call: { toolName: string; input: unknown },
    outcome: { isError: boolean; mutated: boolean },
  ): string | undefined {
    const key = `${call.toolName} ${typeof call.input === "string" ? call.input : stableStringify(call.input)}`;
    this.#streak = key === this.#lastKey ? this.#streak + 1 : 1;
    this.#lastKey = key;
    const shown = key.length > 200 ? `${key.slice(0, 200)}…` : key;
    if (outcome.isError) {
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      if (failures >= this.#maxFailures) return `the same call failed ${failures} times: ${shown}`;
    } else if (outcome.mutated) this.#failures.clear();
    else this.#failures.delete(key);
    if (this.#streak >= this.#maxRepeats)
      return `the same call was made ${this.#streak} times in a row: ${shown}`;
    return undefined;
  }
}
