import { ERROR_STATUS, type ErrorCode, type ErrorCodeWithStatus } from "@kiln/protocol";

export interface KilnErrorOptions {
  /**
   * Only for an answer whose status depends on more than its code (a limit's kind, a provider's failure);
   * otherwise the status is the code's, from the protocol's `ERROR_STATUS`.
   */
  status?: number;
  details?: unknown;
  cause?: unknown;
  headers?: Record<string, string>;
}

/**
 * The one error type domain code throws. The HTTP error handler maps `status` and `code` to the
 * `{ error: { code, message, details? } }` envelope; nothing else decides what a client sees.
 */
export class KilnError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: KilnErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = options.status ?? ERROR_STATUS[code];
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

// The subclasses below name a status; each accepts only the codes the table answers with it.

export class ValidationError extends KilnError {
  constructor(message: string, details?: unknown) {
    super("validation_failed", message, { details });
  }
}

export class BadRequestError extends KilnError {
  constructor(code: ErrorCodeWithStatus<400>, message: string, details?: unknown) {
    super(code, message, { details });
  }
}

export class UnauthenticatedError extends KilnError {
  constructor(code: ErrorCodeWithStatus<401> = "unauthenticated", message = "authentication required") {
    super(code, message);
  }
}

export class ForbiddenError extends KilnError {
  constructor(
    code: ErrorCodeWithStatus<403> = "forbidden",
    message = "you are not allowed to do this",
    details?: unknown,
  ) {
    super(code, message, { details });
  }
}

export class NotFoundError extends KilnError {
  constructor(code: ErrorCodeWithStatus<404> = "not_found", message = "not found") {
    super(code, message);
  }
}

export class ConflictError extends KilnError {
  constructor(code: ErrorCodeWithStatus<409> = "conflict", message = "conflict", details?: unknown) {
    super(code, message, { details });
  }
}

export class RateLimitedError extends KilnError {
  constructor(retryAfterSeconds: number) {
    super("rate_limited", "too many attempts; try again later", {
      details: { retryAfterSeconds },
      headers: { "retry-after": String(retryAfterSeconds) },
    });
  }
}
