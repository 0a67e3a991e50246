/** A URL name suggested from free text; the server has the last word (taken, reserved). */
export function slugify(text: string): string {
  let s = text
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, 39)
    .replace(/-+$/, "");
  if (s.length === 1) s = `${s}-app`;
  return s;
}
