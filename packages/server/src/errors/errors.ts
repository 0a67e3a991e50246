import type { ErrorCode } from "@kiln/protocol";

/**
 * The one error type domain code throws. The HTTP error handler maps `status` and `code` to the
 * `{ error: { code, message, details? } }` envelope; nothing else decides what a client sees.
 */
export class KilnError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    status: number,
    message: string,
    options: { details?: unknown; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

export class ValidationError extends KilnError {
  constructor(message: string, details?: unknown) {
    super("validation_failed", 400, message, { details });
  }
}

export class BadRequestError extends KilnError {
  constructor(code: ErrorCode, message: string, details?: unknown) {
    super(code, 400, message, { details });
  }
}

export class UnauthenticatedError extends KilnError {
  constructor(code: ErrorCode = "unauthenticated", message = "authentication required") {
    super(code, 401, message);
  }
}

export class ForbiddenError extends KilnError {
  constructor(code: ErrorCode = "forbidden", message = "you are not allowed to do this", details?: unknown) {
    super(code, 403, message, { details });
  }
}

export class NotFoundError extends KilnError {
  constructor(code: ErrorCode = "not_found", message = "not found") {
    super(code, 404, message);
  }
}

export class ConflictError extends KilnError {
  constructor(code: ErrorCode = "conflict", message = "conflict", details?: unknown) {
    super(code, 409, message, { details });
  }
}

export class RateLimitedError extends KilnError {
  constructor(retryAfterSeconds: number) {
    super("rate_limited", 429, "too many attempts; try again later", {
      details: { retryAfterSeconds },
      headers: { "retry-after": String(retryAfterSeconds) },
    });
  }
}
