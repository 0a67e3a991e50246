/**
 * The messages between the server and the embedded database's thread (pglite-thread.ts, ADR 0022): one
 * request, one answer, matched by `id`; notifications arrive unasked.
 */

export interface PgliteThreadInit {
  /** A directory, or `memory://`. */
  dataDir?: string;
  /** A `dumpDataDir()` tarball to start an in-memory database from. */
  dump?: ArrayBuffer;
  startParams: string[];
}

export type RowMode = "array" | "object";

export type PgliteRequest =
  | {
      id: number;
      op: "query";
      /** The transaction it belongs to (from `begin`); none: on its own. */
      tx?: number;
      sql: string;
      params: unknown[];
      rowMode: RowMode;
      /** Type OIDs whose values stay text (Drizzle parses dates itself). */
      raw: number[];
    }
  /**
   * Opens transaction `tx` (numbered by the caller, so its queries can follow at once without waiting for
   * this answer: the thread handles requests in order of arrival).
   */
  | { id: number; op: "begin"; tx: number }
  | { id: number; op: "commit" | "rollback"; tx: number }
  | { id: number; op: "listen" | "unlisten"; channel: string }
  | { id: number; op: "dump" }
  | { id: number; op: "close" };

/** An error as it crosses: its class name, message and the plain fields (SQLSTATE `code`, `table`…). */
export interface WireError {
  className: string;
  message: string;
  fields: Record<string, string | number | boolean>;
}

export type PgliteReply =
  | { kind: "ready" }
  | { kind: "failed"; error: WireError }
  | { kind: "answer"; id: number; value: unknown }
  | { kind: "error"; id: number; error: WireError }
  | { kind: "notify"; channel: string; payload: string };

export function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { className: "Error", message: String(err), fields: {} };
  const fields: WireError["fields"] = {};
  for (const key of Object.keys(err)) {
    const value = (err as unknown as Record<string, unknown>)[key];
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean")
      fields[key] = value;
  }
  return { className: err.constructor.name, message: err.message, fields };
}
