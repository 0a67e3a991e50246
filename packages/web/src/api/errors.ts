import type { ErrorCode } from "@kiln/protocol";

/** A failed API call, carrying the server's stable error code (or `network_error` when no answer came). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | "network_error";
  readonly details: unknown;

  constructor(status: number, code: ErrorCode | "network_error", message: string, details?: unknown) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
}

export function isApiError(err: unknown, code?: ApiError["code"]): err is ApiError {
  return err instanceof ApiError && (code === undefined || err.code === code);
}

/** A sentence for a person; validation failures name the first field that was wrong. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === "validation_failed") {
      // The server sends `{ issues: [{ path: "/field", message }] }`; a bare list is zod's own shape.
      const details = err.details as { issues?: unknown } | unknown[] | undefined;
      const issues = Array.isArray(details) ? details : details?.issues;
      const first = (Array.isArray(issues) ? issues[0] : undefined) as
        | { path?: unknown; message?: string }
        | undefined;
      if (first?.message) {
        const path = Array.isArray(first.path)
          ? first.path.map(String)
          : typeof first.path === "string"
            ? first.path.split("/").filter(Boolean)
            : [];
        return `${path.length > 0 ? `${path.join(".")}: ` : ""}${first.message}`;
      }
    }
    if (err.code === "network_error") return "Cannot reach the Kiln server. Check your connection.";
    return err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
