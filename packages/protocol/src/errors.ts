import { z } from "zod";

/**
 * Every failure the API reports carries one of these stable, machine-readable codes.
 * Clients switch on `code`; `message` is for humans and may change.
 */
export const ERROR_CODES = [
  "bad_request",
  "invalid_json",
  "validation_failed",
  "unsupported_media_type",
  "payload_too_large",
  "unauthenticated",
  "invalid_credentials",
  "token_invalid",
  "token_expired",
  "session_revoked",
  "refresh_token_reused",
  "refresh_token_superseded",
  "csrf_failed",
  "origin_forbidden",
  "forbidden",
  "not_found",
  "route_not_found",
  "method_not_allowed",
  "org_not_found",
  "project_not_found",
  "template_not_found",
  "member_not_found",
  "invitation_not_found",
  "invitation_expired",
  "invitation_email_mismatch",
  "api_token_not_found",
  "terminal_not_found",
  "chat_not_found",
  "message_not_found",
  "chat_busy",
  "approval_not_found",
  "run_not_active",
  "no_preview_errors",
  "checkpoint_not_found",
  "conflict",
  "email_taken",
  "slug_taken",
  "slug_reserved",
  "already_member",
  "last_owner",
  "personal_org",
  "path_invalid",
  "path_outside_project",
  "path_reserved",
  "file_not_found",
  "file_too_large",
  "file_binary",
  "file_exists",
  "file_changed",
  "not_a_directory",
  "is_a_directory",
  "directory_not_empty",
  "search_pattern_invalid",
  "search_timeout",
  "uncommitted_changes",
  "history_busy",
  "history_unavailable",
  "model_not_configured",
  "model_not_found",
  "provider_not_found",
  "provider_name_taken",
  "provider_url_forbidden",
  "provider_error",
  "provider_rejected",
  "provider_auth_failed",
  "provider_rate_limited",
  "provider_unreachable",
  "price_not_found",
  "rate_limited",
  "upgrade_required",
  "unavailable",
  "internal_error",
] as const;

export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorEnvelope = z
  .object({
    error: z.object({
      code: ErrorCode,
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: "ErrorEnvelope" });
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;
