/** The last `limit` characters of a terminal's output, kept as chunks so appending stays cheap. */
export class Scrollback {
  readonly #limit: number;
  #chunks: string[] = [];
  #length = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(text: string): void {
    this.#chunks.push(text);
    this.#length += text.length;
    while (this.#length - (this.#chunks[0]?.length ?? 0) >= this.#limit && this.#chunks.length > 1) {
      this.#length -= this.#chunks.shift()!.length;
    }
  }

  /** Everything kept, cut to the limit (the cut may fall inside an escape sequence; terminals recover). */
  text(): string {
    const all = this.#chunks.join("");
    this.#chunks = all ? [all] : [];
    return all.length > this.#limit ? all.slice(all.length - this.#limit) : all;
  }
}
