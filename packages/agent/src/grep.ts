import { Worker } from "node:worker_threads";
import type { GrepResult } from "./workspace.ts";

export interface GrepJob {
  /** Canonical host path of the workspace root. */
  root: string;
  /** Checked canonical path below the root to search ("" = everything). */
  start: string;
  pattern: string;
  ignoreCase: boolean;
  glob?: string;
  limit: number;
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 20_000;

/**
 * The model writes the regular expression, and a pattern with nested quantifiers can backtrack for minutes.
 * Searching in a worker thread keeps that off the event loop that serves every other user, and lets us
 * stop it (terminate) when it runs too long.
 */
export async function grepInWorker(job: GrepJob): Promise<GrepResult> {
  try {
    new RegExp(job.pattern, job.ignoreCase ? "i" : "");
  } catch (err) {
    throw new Error(`invalid regular expression: ${(err as Error).message}`);
  }
  const worker = new Worker(new URL("./grep-worker.ts", import.meta.url), {
    workerData: job,
    resourceLimits: { maxOldGenerationSizeMb: 256 },
  });
  const timeoutMs = job.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    return await new Promise<GrepResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new Error(
            `the search took longer than ${timeoutMs / 1000} s; simplify the pattern or narrow it with path/glob`,
          ),
        );
      }, timeoutMs);
      worker.once("message", (message: GrepResult | { error: string }) => {
        clearTimeout(timer);
        if ("error" in message) reject(new Error(message.error));
        else resolve(message);
      });
      worker.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      worker.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`search stopped (exit ${code})`));
      });
    });
  } finally {
    await worker.terminate();
  }
}
