/**
 * The driver's error, for logs: class, SQLSTATE or errno code, message. Never the ORM's wrapper, whose
 * message carries the SQL parameters; and for a data or constraint error (classes 22, 23), whose message
 * quotes the value, the table, column and constraint instead.
 */
export function driverError(err: unknown): {
  class: string;
  code?: string;
  message?: string;
  table?: string;
  column?: string;
  constraint?: string;
} {
  let e: unknown = err;
  for (let depth = 0; depth < 8; depth++) {
    const cause = (e as { cause?: unknown } | undefined)?.cause;
    if (!(cause instanceof Error)) break;
    e = cause;
  }
  if (!(e instanceof Error)) return { class: typeof e };
  const { code, table, column, constraint } = e as {
    code?: unknown;
    table?: unknown;
    column?: unknown;
    constraint?: unknown;
  };
  const text = (value: unknown) => (typeof value === "string" ? value : undefined);
  const sqlstate = text(code);
  const quotesValues = sqlstate !== undefined && /^2[23]/.test(sqlstate);
  return JSON.parse(
    JSON.stringify({
      class: e.constructor.name,
      code: sqlstate,
      // A wrapper without a cause (rare) still must not leak its parameters.
      message: quotesValues ? undefined : e.message.split("\nparams:")[0]!.slice(0, 500),
      table: text(table),
      column: text(column),
      constraint: text(constraint),
    }),
  );
}
