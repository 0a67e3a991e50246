import type { ChildProcess } from "node:child_process";
import type { Writable } from "node:stream";
import type { ExecRequest, ExecResult } from "./driver.ts";
import { OutputCapture } from "./output.ts";

export interface ExitStatus {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  oomKilled: boolean;
}

/** A started command as every driver sees it: where its input goes, how to end it, when it ended. */
export interface RunningCommand {
  stdin: Writable | null;
  kill(): unknown;
  exited: Promise<ExitStatus>;
}

/** The part of `exec` all drivers share: output capture, stdin, the wall-clock limit, abort. */
export class ExecCapture {
  readonly #out: OutputCapture;
  readonly #err: OutputCapture;
  readonly #started = performance.now();

  constructor(outputBytes: number) {
    this.#out = new OutputCapture(outputBytes);
    this.#err = new OutputCapture(outputBytes);
  }

  attach(child: ChildProcess): void {
    child.stdout?.on("data", (d: Buffer) => this.#out.push(d));
    child.stderr?.on("data", (d: Buffer) => this.#err.push(d));
  }

  async run(command: RunningCommand, request: ExecRequest, wallClockMs: number): Promise<ExecResult> {
    command.stdin?.on("error", () => {});
    command.stdin?.end(request.stdin ?? "");
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      void command.kill();
    }, wallClockMs);
    const onAbort = () => void command.kill();
    request.signal?.addEventListener("abort", onAbort);
    try {
      return this.result(await command.exited, timedOut);
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** `note` is appended to stderr: why a command never started, for instance. */
  result(exit: ExitStatus, timedOut: boolean, note = ""): ExecResult {
    return {
      ...exit,
      stdout: this.#out.text(),
      stderr: this.#err.text() + note,
      stdoutTruncated: this.#out.truncated,
      stderrTruncated: this.#err.truncated,
      timedOut,
      durationMs: performance.now() - this.#started,
    };
  }
}
