import { type PreviewAddress, parsePreviewHost, previewOrigin } from "../preview/host.ts";

/**
 * Published sites live at `<project>--<org>.<publishDomain>` (by default `apps.<appDomain>`): an origin of
 * their own, apart from the studio and from previews. The address has the preview's shape under another
 * domain, and a preview host never has a dot in its first label, so neither is ever taken for the other.
 */
export type SiteAddress = PreviewAddress;

export function parseSiteHost(host: string | undefined, publishDomain: string): SiteAddress | undefined {
  return parsePreviewHost(host, publishDomain);
}

/** `http://localhost:4000` + `apps.localhost` + habits/team → `http://habits--team.apps.localhost:4000`. */
export function siteOrigin(publicUrl: string, publishDomain: string, address: SiteAddress): string {
  return previewOrigin(publicUrl, publishDomain, address);
}
