import { ReadBuffer, serializeMessage } from "@modelcontextprotocol/sdk/shared/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { SandboxProcess } from "../sandbox/driver.ts";

/** The last bytes of a stdio server's stderr kept to explain a crash. */
const STDERR_TAIL = 2_000;

/**
 * The MCP stdio transport over a process of the project's sandbox (the SDK's own one spawns on the host,
 * which Kiln never does with tenant code): newline-delimited JSON-RPC on its stdin and stdout.
 */
export class SandboxStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #spawn: () => Promise<SandboxProcess>;
  readonly #buffer = new ReadBuffer();
  #process: SandboxProcess | undefined;
  #stderr = "";
  #closed = false;

  constructor(spawn: () => Promise<SandboxProcess>) {
    this.#spawn = spawn;
  }

  /** What the server wrote to stderr last (its crash message, usually). */
  get stderrTail(): string {
    return this.#stderr.trim();
  }

  async start(): Promise<void> {
    const proc = await this.#spawn();
    this.#process = proc;
    proc.stdout.on("data", (chunk: Buffer) => {
      this.#buffer.append(chunk);
      for (;;) {
        let message: JSONRPCMessage | null;
        try {
          message = this.#buffer.readMessage();
        } catch (err) {
          this.onerror?.(err instanceof Error ? err : new Error(String(err)));
          continue;
        }
        if (!message) break;
        this.onmessage?.(message);
      }
    });
    proc.stderr.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString("utf8")).slice(-STDERR_TAIL);
    });
    proc.stdin?.on("error", (err) => this.onerror?.(err));
    void proc.exited.then(() => this.#ended());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.#process?.stdin;
    if (!stdin || this.#closed) throw new Error("the MCP server's process is not running");
    await new Promise<void>((resolve, reject) => {
      stdin.write(serializeMessage(message), (err) => (err ? reject(err) : resolve()));
    });
  }

  async close(): Promise<void> {
    await this.#process?.kill();
    this.#ended();
  }

  #ended(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#buffer.clear();
    this.onclose?.();
  }
}
