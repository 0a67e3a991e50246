export interface LogLine {
  /** Monotonic per buffer; clients resume from it (SSE Last-Event-ID). */
  seq: number;
  at: number;
  stream: "stdout" | "stderr" | "system";
  text: string;
}

type Listener = (line: LogLine) => void;

const MAX_LINE = 4_000;
// Terminal colour and cursor escapes make logs unreadable in the browser and in pages; drop them.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[ -/]*[@-~]`, "g");

/**
 * The last N lines a dev server printed, with live subscribers. Bounded in lines and line length, so a
 * chatty or hostile process cannot grow the server's memory.
 */
export class LogBuffer {
  readonly #lines: LogLine[] = [];
  readonly #listeners = new Set<Listener>();
  readonly #partial: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };
  readonly #capacity: number;
  #seq = 0;

  constructor(capacity = 1_000) {
    this.#capacity = capacity;
  }

  /** Feeds a chunk of a stream; complete lines are stored, the rest waits for its newline. */
  write(stream: "stdout" | "stderr", chunk: string): void {
    const text = this.#partial[stream] + chunk;
    const parts = text.split(/\r?\n/);
    this.#partial[stream] = (parts.pop() ?? "").slice(-MAX_LINE);
    for (const p of parts) this.push(stream, p);
  }

  push(stream: LogLine["stream"], text: string): void {
    const clean = text.replace(ANSI, "").slice(0, MAX_LINE);
    const line: LogLine = { seq: ++this.#seq, at: Date.now(), stream, text: clean };
    this.#lines.push(line);
    if (this.#lines.length > this.#capacity) this.#lines.shift();
    for (const listener of this.#listeners) listener(line);
  }

  /** Lines after `seq` (all kept lines when omitted). */
  since(seq = 0): LogLine[] {
    return this.#lines.filter((l) => l.seq > seq);
  }

  tail(n: number): string[] {
    return this.#lines.slice(-n).map((l) => l.text);
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
