import { pino } from "pino";

// Drizzle's query error says `Failed query: <sql>\nparams: <values>` in its message (and so in its stack),
// and keeps the values in `params`; PostgreSQL's `detail` repeats the values of a failing row. Values are
// tenants' data and secrets (a hashed API token being looked up): logs keep the query, never its values.
const PARAMS_LINE = /\nparams: [^\n]*/g;
const DROPPED_KEYS = new Set(["params", "detail", "where", "parameters"]);

function scrub(value: unknown, depth: number): unknown {
  if (depth > 6 || value === null || typeof value !== "object") {
    return typeof value === "string" ? value.replace(PARAMS_LINE, "\nparams: [redacted]") : value;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (DROPPED_KEYS.has(key)) continue;
    out[key] = scrub(v, depth + 1);
  }
  return out;
}

/** pino's error serializer, minus SQL parameter values anywhere in the error or its causes. */
export function safeErrorSerializer(err: unknown): unknown {
  const serialized = err instanceof Error ? pino.stdSerializers.err(err) : err;
  return scrub(serialized, 0);
}

/** The options every Kiln logger is made with. */
export function loggerOptions(level: string): pino.LoggerOptions {
  return { level, serializers: { err: safeErrorSerializer } };
}
