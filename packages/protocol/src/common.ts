import { z } from "zod";

export const Id = z.uuid().describe("Resource id (UUID)");

/** The longest slug the API accepts; `slugify` keeps to it. */
export const SLUG_MAX_LENGTH = 39;

/** Slugs name orgs and projects in URLs, schema names and preview hosts (`<project>--<org>`), so no `--`. */
export const SLUG_PATTERN = new RegExp(`^[a-z][a-z0-9-]{1,${SLUG_MAX_LENGTH - 1}}$`);

export const Slug = z
  .string()
  .regex(SLUG_PATTERN, {
    message: "lowercase letters, digits and hyphens; starts with a letter; 2–39 characters",
    abort: true,
  })
  .refine((s) => !s.includes("--") && !s.endsWith("-"), "no double hyphen and no trailing hyphen")
  .describe("URL-safe name");

/** An org or project may be addressed by id or by slug. */
export const IdOrSlug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9-]+$/, "an id or a slug")
  .describe("Id (UUID) or slug");

// Control characters in a display name only ever serve to confuse (or, NUL, to be refused by Postgres).
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Free text that may span lines (descriptions): everything but NUL. */
export const Text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes("\u0000"), "must not contain NUL");

export const Timestamp = z.iso.datetime().describe("ISO-8601 timestamp");

export const Name = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .refine((s) => !hasControl(s), "must not contain control characters");

export const Ok = z.object({ ok: z.literal(true) });
