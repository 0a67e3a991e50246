import { logFailure } from "./unavailable.ts";

/** A periodic clean-up: returns what it did (counts, for the log), nothing when there was nothing to do. */
export interface HousekeepingTask {
  name: string;
  run(): Promise<Record<string, number> | undefined>;
}

/**
 * Runs clean-ups a minute after start and then hourly, one after another, in the background. Every replica
 * runs them; they are idempotent, so two at once only repeat a little work. Returns the function that stops
 * them.
 */
export function scheduleHousekeeping(
  tasks: readonly HousekeepingTask[],
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  },
  timing: { firstAfterMs?: number; everyMs?: number } = {},
): () => void {
  let running = false;
  const runAll = async () => {
    if (running) return;
    running = true;
    try {
      for (const task of tasks) {
        try {
          const did = await task.run();
          if (did) log.info({ task: task.name, ...did }, "housekeeping");
        } catch (err) {
          logFailure(log, err, "housekeeping failed", { task: task.name });
        }
      }
    } finally {
      running = false;
    }
  };
  let every: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    void runAll();
    every = setInterval(() => void runAll(), timing.everyMs ?? 3_600_000);
    every.unref();
  }, timing.firstAfterMs ?? 60_000);
  first.unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
