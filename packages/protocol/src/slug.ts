import { SLUG_MAX_LENGTH, SLUG_PATTERN } from "./common.ts";

/**
 * A slug made from free text (a project or org name, an email's local part), by the rules the server
 * validates (`Slug`): ASCII letters (accents dropped), digits and single hyphens, starting with a letter, at
 * most `SLUG_MAX_LENGTH` characters. Text that leaves no valid slug gives `fallback`. The result may still
 * be taken or reserved; the server has the last word.
 */
export function slugify(text: string, fallback = "project"): string {
  const s = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, SLUG_MAX_LENGTH)
    .replace(/-+$/, "");
  return SLUG_PATTERN.test(s) ? s : fallback;
}
