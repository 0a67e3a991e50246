import { SLUG_PATTERN } from "@kiln/protocol";

/**
 * One deployment's own host, for its share links: `<project>--<org>--d<number>.<publishDomain>`. Slugs never
 * contain `--`, so three parts are never a project's publish host (two) nor a preview's (another domain).
 */
export interface VersionAddress {
  projectSlug: string;
  orgSlug: string;
  number: number;
}

const NUMBER = /^d([1-9][0-9]{0,8})$/;

export function parseVersionHost(
  host: string | undefined,
  publishDomain: string,
): VersionAddress | undefined {
  if (!host || host.length > 300) return undefined;
  const name = host.replace(/:\d+$/, "").toLowerCase().replace(/\.$/, "");
  const suffix = `.${publishDomain.toLowerCase()}`;
  if (!name.endsWith(suffix)) return undefined;
  const label = name.slice(0, -suffix.length);
  if (label.includes(".")) return undefined;
  const parts = label.split("--");
  if (parts.length !== 3) return undefined;
  const [projectSlug, orgSlug, version] = parts as [string, string, string];
  const number = NUMBER.exec(version)?.[1];
  if (!number || !SLUG_PATTERN.test(projectSlug) || !SLUG_PATTERN.test(orgSlug)) return undefined;
  return { projectSlug, orgSlug, number: Number(number) };
}

/** `http://localhost:4000` + `apps.localhost` + habits/team/3 → `http://habits--team--d3.apps.localhost:4000`. */
export function versionOrigin(publicUrl: string, publishDomain: string, a: VersionAddress): string {
  const url = new URL(publicUrl);
  const port = url.port ? `:${url.port}` : "";
  return `${url.protocol}//${a.projectSlug}--${a.orgSlug}--d${a.number}.${publishDomain}${port}`;
}
