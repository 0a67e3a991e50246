import { randomBytes } from "node:crypto";
import { SLUG_MAX_LENGTH } from "@kiln/protocol";

/** Words that name routes, hosts or system things; an org or project called this would shadow them. */
export const RESERVED_SLUGS = new Set([
  "account",
  "admin",
  "api",
  "app",
  "apps",
  "assets",
  "auth",
  "billing",
  "dashboard",
  "docs",
  "git",
  "health",
  "help",
  "internal",
  "kiln",
  "login",
  "logout",
  "mail",
  "me",
  "metrics",
  "new",
  "org",
  "orgs",
  "pg",
  "postgres",
  "preview",
  "previews",
  "project",
  "projects",
  "public",
  "root",
  "settings",
  "signup",
  "static",
  "status",
  "support",
  "system",
  "user",
  "users",
  "v1",
  "www",
  "information-schema",
]);

const ID_SHAPED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Orgs and projects are addressed by id or slug, so a slug spelled like an id could stand for another
 * resource (another tenant's org, for one of its members). Such slugs are refused.
 */
export function looksLikeId(slug: string): boolean {
  return ID_SHAPED.test(slug);
}

export function isReservedSlug(slug: string): boolean {
  return RESERVED_SLUGS.has(slug) || looksLikeId(slug);
}

/** `my-team` → `org_my_team`. Slugs hold no `_`, so the mapping is one-to-one. */
export function schemaNameFor(slug: string): string {
  return `org_${slug.replaceAll("-", "_")}`;
}

/** `-` and six hex digits. */
const SUFFIX_LENGTH = 7;

/** A taken slug made unique; still a valid slug (the free text went through `slugify` of @kiln/protocol). */
export function withSuffix(slug: string): string {
  const base = slug.slice(0, SLUG_MAX_LENGTH - SUFFIX_LENGTH).replace(/-+$/, "");
  return `${base}-${randomBytes(3).toString("hex")}`;
}
