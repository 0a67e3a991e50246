/**
 * Keeps the first and last `limit / 2` bytes of a stream. Build logs and test runs put the cause of a
 * failure at the end and the command's context at the start; the middle is what we can afford to lose.
 */
export class OutputCapture {
  readonly #half: number;
  #head: Buffer[] = [];
  #headBytes = 0;
  #tail: Buffer[] = [];
  #tailBytes = 0;
  #total = 0;

  constructor(limit: number) {
    this.#half = Math.max(1, Math.floor(limit / 2));
  }

  push(chunk: Buffer): void {
    this.#total += chunk.length;
    let rest = chunk;
    if (this.#headBytes < this.#half) {
      const take = Math.min(this.#half - this.#headBytes, rest.length);
      this.#head.push(rest.subarray(0, take));
      this.#headBytes += take;
      rest = rest.subarray(take);
    }
    if (rest.length === 0) return;
    this.#tail.push(rest);
    this.#tailBytes += rest.length;
    while (this.#tailBytes - (this.#tail[0]?.length ?? 0) >= this.#half) {
      this.#tailBytes -= this.#tail.shift()?.length ?? 0;
    }
  }

  get truncated(): boolean {
    return this.#total > this.#headBytes + Math.min(this.#tailBytes, this.#half);
  }

  text(): string {
    const head = Buffer.concat(this.#head);
    let tail = Buffer.concat(this.#tail);
    if (tail.length > this.#half) tail = tail.subarray(tail.length - this.#half);
    if (!this.truncated) return Buffer.concat([head, tail]).toString("utf8");
    const omitted = this.#total - head.length - tail.length;
    return `${head.toString("utf8")}\n… [${omitted} bytes omitted] …\n${tail.toString("utf8")}`;
  }
}
