import { z } from "zod";
import { Timestamp } from "./common.ts";

/**
 * Errors seen while a project runs: build and runtime errors from its dev server's output (`server`), and
 * uncaught errors, unhandled rejections and `console.error` calls reported by the preview page (`browser`).
 * The agent reads them to fix what broke.
 */

export const PreviewErrorKind = z.enum(["log", "error", "unhandledrejection", "console"]);
export type PreviewErrorKind = z.infer<typeof PreviewErrorKind>;

export const PreviewError = z
  .object({
    id: z.string().describe("Stable for the same error, so a client can tell repeats apart from news"),
    source: z.enum(["server", "browser"]),
    kind: PreviewErrorKind.describe("`log` for the dev server's output; the browser's event otherwise"),
    message: z.string(),
    detail: z.string().nullable().describe("Stack trace, or the code frame and stack a dev server printed"),
    url: z.string().nullable().describe("Script the browser error came from"),
    line: z.number().int().nullable(),
    column: z.number().int().nullable(),
    page: z.string().nullable().describe("Path of the preview page that reported it"),
    count: z.number().int(),
    firstAt: Timestamp,
    lastAt: Timestamp,
  })
  .meta({ id: "PreviewError" });
export type PreviewError = z.infer<typeof PreviewError>;

export const PreviewErrorList = z
  .object({ errors: z.array(PreviewError).describe("Oldest first: the newest error is last") })
  .meta({ id: "PreviewErrorList" });
export type PreviewErrorList = z.infer<typeof PreviewErrorList>;

/** Limits of one report from the preview page; the page's script cuts its fields to fit. */
export const PREVIEW_ERROR_LIMITS = {
  message: 2_000,
  stack: 8_000,
  url: 2_000,
  bodyBytes: 16 * 1024,
} as const;

/** What the script injected into preview pages posts to `/__kiln/errors` on the preview origin. */
export const PreviewErrorReport = z.strictObject({
  kind: z.enum(["error", "unhandledrejection", "console"]),
  message: z.string().min(1).max(PREVIEW_ERROR_LIMITS.message),
  stack: z.string().max(PREVIEW_ERROR_LIMITS.stack).optional(),
  url: z.string().max(PREVIEW_ERROR_LIMITS.url).optional(),
  line: z.number().int().min(0).max(10_000_000).optional(),
  col: z.number().int().min(0).max(10_000_000).optional(),
  page: z.string().max(PREVIEW_ERROR_LIMITS.url).optional(),
});
export type PreviewErrorReport = z.infer<typeof PreviewErrorReport>;

/**
 * Also posted to `/__kiln/errors`: a preview page finished loading and stayed free of errors for a moment.
 * The page works again, so what it (and the dev server) reported before is history.
 */
export const PreviewPageLoaded = z.strictObject({
  kind: z.literal("loaded"),
  page: z.string().max(PREVIEW_ERROR_LIMITS.url).optional(),
});
export type PreviewPageLoaded = z.infer<typeof PreviewPageLoaded>;
