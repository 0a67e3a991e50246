import { randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import { truncateMiddle } from "./text.ts";
import type { ShellSession, WorkspaceExecResult } from "./workspace.ts";

/** A long-running `bash` with pipes, e.g. from the runtime driver's `spawn(…, { openStdin: true })`. */
export interface ShellProcess {
  stdin: Writable;
  stdout: Readable;
  stderr: Readable;
  kill(): Promise<void> | void;
  /** Settles when the process has exited. */
  exited: Promise<unknown>;
}

const MAX_OUTPUT_CHARS = 256 * 1024;

/**
 * Turns a bash process into a `ShellSession`. Each command is sent as a `{ …; }` group (so `cd` and
 * variables persist, unlike a subshell) with stdin from /dev/null (a command that reads stdin would
 * otherwise swallow the next commands) and stderr folded into stdout, followed by a marker line carrying a
 * random nonce and the exit status. A pipe cannot interrupt a foreground command, so a command that times
 * out ends the session.
 */
export function shellSessionOverProcess(id: string, proc: ShellProcess): ShellSession {
  let buffer = "";
  let alive = true;
  let busy = false;
  let waiter: (() => void) | undefined;
  const onData = (chunk: Buffer | string) => {
    buffer += chunk.toString();
    waiter?.();
  };
  proc.stdout.on("data", onData);
  proc.stderr.on("data", onData);
  proc.stdin.on("error", () => {});
  void proc.exited.then(() => {
    alive = false;
    waiter?.();
  });

  const close = async () => {
    if (!alive) return;
    alive = false;
    proc.stdin.end();
    await proc.kill();
  };

  return {
    id,
    async run(command, options = {}) {
      if (!alive) throw new Error(`shell ${id} has exited`);
      if (busy) throw new Error(`shell ${id} is still running another command`);
      busy = true;
      const started = performance.now();
      const nonce = randomBytes(8).toString("hex");
      const marker = new RegExp(`\\n?__KILN_DONE_${nonce}_(\\d+)__\\n`);
      buffer = "";
      proc.stdin.write(`{\n${command}\n} </dev/null 2>&1; printf '\\n__KILN_DONE_${nonce}_%d__\\n' $?\n`);
      const timeoutMs = options.timeoutMs ?? 120_000;
      let timedOut = false;
      try {
        const exitCode = await new Promise<number | null>((resolve) => {
          const timer = setTimeout(() => {
            timedOut = true;
            resolve(null);
          }, timeoutMs);
          const onAbort = () => {
            timedOut = true;
            resolve(null);
          };
          options.signal?.addEventListener("abort", onAbort, { once: true });
          waiter = () => {
            const match = marker.exec(buffer);
            if (match || !alive) {
              clearTimeout(timer);
              options.signal?.removeEventListener("abort", onAbort);
              if (match) {
                buffer = buffer.slice(0, match.index);
                resolve(Number(match[1]));
              } else resolve(null);
            }
          };
          waiter();
        });
        waiter = undefined;
        if (timedOut) await close();
        const { text, truncated } = truncateMiddle(buffer, MAX_OUTPUT_CHARS);
        const result: WorkspaceExecResult = {
          exitCode,
          stdout: text,
          stderr: "",
          timedOut,
          truncated,
          durationMs: performance.now() - started,
        };
        if (exitCode === null && !timedOut) result.stderr = "the shell exited";
        return result;
      } finally {
        busy = false;
        buffer = "";
      }
    },
    close,
  };
}
