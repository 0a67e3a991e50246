import { ERROR_STATUS, type ErrorCode, type ErrorEnvelope } from "@kiln/protocol";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";
import { driverError } from "../db/driver-error.ts";
import { pgErrorCode } from "../db/errors.ts";
import { DatabaseUnavailableError, isDatabaseUnavailable } from "../db/unavailable.ts";
import { KilnError } from "../errors/errors.ts";

function envelope(code: ErrorCode, message: string, details?: unknown): ErrorEnvelope {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "bad_request",
  FST_ERR_CTP_INVALID_TYPE: "bad_request",
};

// PostgreSQL text cannot hold U+0000; it rejects it with this SQLSTATE. JSON and percent-encoding both can
// carry one, and checking every schema for it is easy to forget, so a NUL that reaches the database is
// answered here as the client's error rather than a 500.
const CHARACTER_NOT_IN_REPERTOIRE = "22021";

/** The one place that turns a failure into `{ error: { code, message, details? } }`. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    // A database outage is not a server bug: a retryable 503 on every route, one warning line, no SQL.
    if (!(err instanceof KilnError) && isDatabaseUnavailable(err)) {
      request.log.warn({ error: driverError(err) }, "database unavailable");
      const unavailable = new DatabaseUnavailableError(err);
      return reply
        .code(unavailable.status)
        .headers(unavailable.headers)
        .send(envelope(unavailable.code, unavailable.message, unavailable.details));
    }
    if (err instanceof KilnError) {
      // Unavailable is a state to wait out, not a bug (health checks say it too).
      if (err.status === 503) request.log.warn({ code: err.code, error: driverError(err) }, err.message);
      else if (err.status >= 500) request.log.error({ err }, "request failed");
      return reply
        .code(err.status)
        .headers(err.headers)
        .send(envelope(err.code, err.message, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({
        in: err.validationContext,
        path: v.instancePath,
        message: v.message,
        ...(v.params?.issue && typeof v.params.issue === "object"
          ? { code: (v.params.issue as { code?: string }).code }
          : {}),
      }));
      return reply
        .code(ERROR_STATUS.validation_failed)
        .send(envelope("validation_failed", `invalid ${err.validationContext}`, { issues }));
    }
    if (isResponseSerializationError(err)) {
      request.log.error({ err, issues: err.cause.issues }, "response did not match its schema");
      return reply.code(ERROR_STATUS.internal_error).send(envelope("internal_error", "internal error"));
    }
    if (pgErrorCode(err) === CHARACTER_NOT_IN_REPERTOIRE) {
      return reply
        .code(ERROR_STATUS.bad_request)
        .send(envelope("bad_request", "text must not contain NUL (\\u0000) characters"));
    }
    // Fastify's own 4xx keep Fastify's status; the code is the closest one (a 4xx without its own code,
    // say 408 or 431, is a bad_request with that status).
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      const code =
        FASTIFY_CODES[err.code] ??
        (err instanceof SyntaxError
          ? "invalid_json"
          : status === 404
            ? "not_found"
            : status === 405
              ? "method_not_allowed"
              : status === 413
                ? "payload_too_large"
                : status === 415
                  ? "unsupported_media_type"
                  : status === 429
                    ? "rate_limited"
                    : "bad_request");
      return reply.code(status).send(envelope(code, err.message));
    }
    request.log.error({ err }, "unhandled error");
    return reply.code(ERROR_STATUS.internal_error).send(envelope("internal_error", "internal error"));
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .code(ERROR_STATUS.route_not_found)
      .send(envelope("route_not_found", `no route for ${request.method} ${request.url.split("?")[0]}`));
  });
}

/**
 * Fastify answers a few malformed requests (bad percent-encoding, an over-long path parameter) while
 * routing, before any hook or error handler runs; pass this as its `frameworkErrors` option so those
 * answers carry the envelope too.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode ?? 500;
  if (status >= 500) {
    request.log.error({ err }, "routing failed");
    reply.code(ERROR_STATUS.internal_error).send(envelope("internal_error", "internal error"));
    return;
  }
  reply.code(status).send(envelope("bad_request", err.message));
}
