import type { Terminal, TerminalServerMessage } from "@kiln/protocol";
import type { SandboxProcess } from "../sandbox/driver.ts";
import { inputFrame, resizeFrame } from "./pty-helper.ts";
import { Scrollback } from "./scrollback.ts";

/** Typed-ahead input held for a shell that is not reading (its PTY input queue is full). */
const MAX_QUEUED_INPUT_BYTES = 1024 * 1024;

export type TerminalListener = (message: TerminalServerMessage) => void;

export interface TerminalSessionInit {
  id: string;
  orgId: string;
  projectId: string;
  createdBy: string;
  cols: number;
  rows: number;
  scrollbackChars: number;
}

/**
 * One shell in a project's sandbox. It outlives the sockets that show it: output goes to a bounded scrollback
 * and to every attached listener, so a reconnecting client replays the recent screen and then follows live.
 */
export class TerminalSession {
  readonly id: string;
  readonly orgId: string;
  readonly projectId: string;
  readonly createdBy: string;
  readonly createdAt = new Date();
  cols: number;
  rows: number;
  /** Last output, input or attach/detach; the idle sweep compares against it. */
  lastActivity = Date.now();
  /** Set once the shell has exited. */
  exit: { code: number | null } | undefined;
  readonly #process: SandboxProcess;
  readonly #scrollback: Scrollback;
  readonly #listeners = new Set<TerminalListener>();

  constructor(init: TerminalSessionInit, process: SandboxProcess) {
    this.id = init.id;
    this.orgId = init.orgId;
    this.projectId = init.projectId;
    this.createdBy = init.createdBy;
    this.cols = init.cols;
    this.rows = init.rows;
    this.#process = process;
    this.#scrollback = new Scrollback(init.scrollbackChars);
    // setEncoding decodes across chunk boundaries, so a split UTF-8 sequence is never mangled.
    for (const stream of [process.stdout, process.stderr]) {
      stream.setEncoding("utf8").on("data", (data: string) => this.#output(data));
    }
    process.stdin?.on("error", () => {});
    void process.exited.then((status) => {
      this.exit = { code: status.exitCode };
      this.#emit({ type: "exit", code: status.exitCode });
      this.#listeners.clear();
    });
  }

  get attached(): number {
    return this.#listeners.size;
  }

  /** Replays the scrollback to `listener`, then streams to it until the returned function is called. */
  attach(listener: TerminalListener): () => void {
    this.lastActivity = Date.now();
    const replay = this.#scrollback.text();
    if (replay) listener({ type: "output", data: replay });
    if (this.exit) {
      listener({ type: "exit", code: this.exit.code });
      return () => {};
    }
    this.#listeners.add(listener);
    return () => {
      if (this.#listeners.delete(listener)) this.lastActivity = Date.now();
    };
  }

  /** False when the shell has stopped reading and too much input is already queued; the input is dropped. */
  input(data: string): boolean {
    if (this.exit || data.length === 0) return true;
    const stdin = this.#process.stdin;
    if (!stdin || stdin.writableLength > MAX_QUEUED_INPUT_BYTES) return false;
    this.lastActivity = Date.now();
    stdin.write(inputFrame(data));
    return true;
  }

  resize(cols: number, rows: number): void {
    if (this.exit) return;
    this.cols = cols;
    this.rows = rows;
    this.#process.stdin?.write(resizeFrame(cols, rows));
  }

  async kill(): Promise<void> {
    await this.#process.kill();
    await this.#process.exited;
  }

  /** Resolves once the shell has exited and its sandbox is gone. */
  get exited(): Promise<unknown> {
    return this.#process.exited;
  }

  toJSON(): Terminal {
    return {
      id: this.id,
      createdAt: this.createdAt.toISOString(),
      createdBy: this.createdBy,
      cols: this.cols,
      rows: this.rows,
      attached: this.attached,
    };
  }

  #output(data: string): void {
    this.lastActivity = Date.now();
    this.#scrollback.push(data);
    this.#emit({ type: "output", data });
  }

  #emit(message: TerminalServerMessage): void {
    for (const listener of this.#listeners) listener(message);
  }
}
