/**
 * Whether a failed query failed because the database could not be reached (restart, failover, network,
 * connection limit) rather than because of the query: such a failure is worth retrying later (or answering
 * 503), the other kind is not. Looks through `.cause` chains: Drizzle wraps the driver's error in one whose
 * message carries the SQL and parameters.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 8; depth++) {
    if (typeof e === "object" && matches(e as ErrorShape)) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

interface ErrorShape {
  code?: unknown;
  message?: unknown;
}

/** Node's socket errors on the way to the server. */
const NODE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "ENOTFOUND", "EHOSTUNREACH"]);

/** 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections. */
const SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);

/**
 * pg (and pg-pool) raise these as plain `Error`s, without a code; PGlite's after `close()`. Whole-message
 * matches, so a query error that merely mentions them in its text does not count.
 */
const MESSAGES = new Set([
  "Connection terminated unexpectedly",
  "Connection terminated",
  "Connection terminated due to connection timeout",
  "Client has encountered a connection error and is not queryable",
  "Client was closed and is not queryable",
  "timeout exceeded when trying to connect",
  "PGlite is closed",
  "PGlite is closing",
]);

function matches(e: ErrorShape): boolean {
  if (typeof e.code === "string") {
    // Class 08: connection_exception and its subclasses.
    if (/^08[0-9A-Z]{3}$/.test(e.code) || SQLSTATES.has(e.code) || NODE_CODES.has(e.code)) return true;
  }
  // Node's net.connect to several addresses (localhost → ::1 and 127.0.0.1) fails with an AggregateError.
  if (e instanceof AggregateError && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
  return typeof e.message === "string" && MESSAGES.has(e.message);
}
