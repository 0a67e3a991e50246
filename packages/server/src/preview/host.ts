import { SLUG_PATTERN } from "@kiln/protocol";

export interface PreviewAddress {
  projectSlug: string;
  orgSlug: string;
}

/**
 * Previews live on their own origin, `<project>--<org>.<appDomain>`, so code running in a preview can never
 * read the studio's cookies or call its API as the user. Slugs cannot contain `--`, which makes the split
 * unambiguous. Returns undefined for any other host (the studio itself).
 */
export function parsePreviewHost(host: string | undefined, appDomain: string): PreviewAddress | undefined {
  if (!host || host.length > 300) return undefined;
  const name = host.replace(/:\d+$/, "").toLowerCase().replace(/\.$/, "");
  const suffix = `.${appDomain.toLowerCase()}`;
  if (!name.endsWith(suffix)) return undefined;
  const label = name.slice(0, -suffix.length);
  if (label.includes(".")) return undefined;
  const parts = label.split("--");
  if (parts.length !== 2) return undefined;
  const [projectSlug, orgSlug] = parts as [string, string];
  if (!SLUG_PATTERN.test(projectSlug) || !SLUG_PATTERN.test(orgSlug)) return undefined;
  return { projectSlug, orgSlug };
}

/** `http://localhost:4000` + `habits`/`team` → `http://habits--team.localhost:4000`. */
export function previewOrigin(publicUrl: string, appDomain: string, address: PreviewAddress): string {
  const url = new URL(publicUrl);
  return `${url.protocol}//${address.projectSlug}--${address.orgSlug}.${appDomain}${url.port ? `:${url.port}` : ""}`;
}
