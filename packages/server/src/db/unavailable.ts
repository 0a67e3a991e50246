import { KilnError } from "../errors/errors.ts";
import { driverError } from "./driver-error.ts";

/** Seconds a client is asked to wait before retrying while the database is away. */
export const DATABASE_RETRY_AFTER_SECONDS = 1;

// SQLSTATEs that mean "the server or the connection went away", not "this query is wrong": class 08
// (connection exception), 57P01-57P03 (shut down by an administrator, crashed, still starting), 53300
// (too many connections, e.g. while a fail-over settles).
const UNAVAILABLE_STATES = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;
const UNAVAILABLE_ERRNO = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);
// node-postgres (and pg-pool) say these in plain words, without a code; PGlite after `close()`. Whole
// messages, so a query error that merely mentions one in its text does not count.
const UNAVAILABLE_MESSAGES = new Set([
  "Connection terminated unexpectedly",
  "Connection terminated",
  "Connection terminated due to connection timeout",
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
  "timeout exceeded when trying to connect",
  "Cannot use a pool after calling end on the pool",
  "PGlite is closed",
  "PGlite is closing",
]);

/**
 * Whether a failure means the database could not be reached (retry later), looking through the wrappers
 * (Drizzle's "Failed query" error carries the driver's error as its cause).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 6; depth++) {
    if (e instanceof DatabaseUnavailableError) return true;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string" && (UNAVAILABLE_STATES.test(code) || UNAVAILABLE_ERRNO.has(code)))
      return true;
    if (typeof message === "string" && UNAVAILABLE_MESSAGES.has(message)) return true;
    // AggregateError (a dual-stack connect that failed on every address).
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.some((x) => isDatabaseUnavailable(x))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * The database is away for a moment: `503 database_unavailable` with `Retry-After`, and in a chat turn
 * the stop reason of the same name (`runStopReason` is how the agent loop, which cannot import the
 * server, learns why a model call failed).
 */
export class DatabaseUnavailableError extends KilnError {
  readonly runStopReason = "database_unavailable";

  constructor(cause?: unknown, message = "Kiln lost its database for a moment; retry shortly") {
    super("database_unavailable", message, {
      cause,
      details: { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS },
      headers: { "retry-after": String(DATABASE_RETRY_AFTER_SECONDS) },
    });
  }
}

/** Logs a background task's failure: an outage as one warning without the SQL, anything else as an error. */
export function logFailure(
  log: { warn(o: object, m: string): void; error(o: object, m: string): void },
  err: unknown,
  message: string,
  context: object = {},
): void {
  if (isDatabaseUnavailable(err))
    log.warn({ ...context, error: driverError(err) }, `${message}: database unavailable`);
  else log.error({ ...context, err }, message);
}
