import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { DeployTargetKind } from "@kiln/protocol";
import type { OrgRow } from "../orgs/service.ts";
import { DecryptionError } from "../secrets/secret-box.ts";
import type { ArtifactStore } from "./artifacts.ts";
import type { ArtifactManifest } from "./manifest.ts";
import type { TargetAdapter, TargetContext } from "./targets/adapter.ts";
import { ProjectGone, TargetError } from "./targets/adapter.ts";
import { cloudflarePages } from "./targets/cloudflare-pages.ts";
import { netlify } from "./targets/netlify.ts";
import type { DeployTargetService, OpenTarget } from "./targets/service.ts";
import { vercel } from "./targets/vercel.ts";

const ADAPTERS: Record<DeployTargetKind, TargetAdapter> = {
  vercel,
  netlify,
  "cloudflare-pages": cloudflarePages,
};

/** Cloudflare Pages project names are the shortest allowed of the three (58). */
const NAME_MAX = 58;

/**
 * Ships a built artifact to an external target (ADR 0024): its files are read from Kiln's own store by digest
 * (Kiln-owned blobs, never the tenant's workspace), handed to the target's adapter, and the provider-side
 * project the first deployment makes is remembered for the next.
 */
export async function shipToTarget(o: {
  targets: DeployTargetService;
  artifacts: ArtifactStore;
  target: OpenTarget;
  org: OrgRow;
  project: { id: string; slug: string };
  manifest: ArtifactManifest;
  signal: AbortSignal;
  log(line: string): void;
}): Promise<{ url: string; providerDeploymentId: string }> {
  const { row } = o.target;
  const adapter = ADAPTERS[row.kind as DeployTargetKind];
  let ctx: TargetContext;
  try {
    ctx = o.target.context(o.signal, o.log);
  } catch (err) {
    if (err instanceof DecryptionError)
      throw new TargetError(
        `the token of deploy target "${row.name}" cannot be decrypted (was KILN_SECRET_KEY changed?); set it again`,
      );
    throw err;
  }
  const existing = await o.targets.providerProject(o.org, o.project.id, row.id);
  const files = Object.entries(o.manifest.files).map(([path, f]) => ({
    path,
    size: f.size,
    read: () => readFile(o.artifacts.blobPath(f.digest)),
  }));
  o.log(`deploying ${files.length} files to ${row.kind} (${row.name})`);
  const deploy = (project: { existing: string } | { create: string }) =>
    adapter.deploy(ctx, {
      project,
      created: (name) => o.targets.rememberProject(o.org, o.project.id, row.id, name),
      files,
      spa: o.manifest.spa,
    });
  const fresh = () => ({ create: providerName(o.project.slug, o.org.slug) });
  const result = await deploy(existing ? { existing } : fresh()).catch((err: unknown) => {
    // Removed on the provider's side since the last deployment: made again, as on the first one.
    if (!(err instanceof ProjectGone)) throw err;
    o.log(`${err.message} on the provider; making a new one`);
    return deploy(fresh());
  });
  // Shown as a link in the studio: only an https address, whatever the provider answered.
  let url: URL;
  try {
    url = new URL(result.url);
  } catch {
    throw new TargetError(`${row.kind}: the deployment's address is not a URL`);
  }
  if (url.protocol !== "https:") throw new TargetError(`${row.kind}: the deployment's address is not https`);
  o.log(`live at ${url.href.replace(/\/$/, "")}`);
  return { url: url.href.replace(/\/$/, ""), providerDeploymentId: result.deploymentId.slice(0, 200) };
}

/**
 * `<project>-<org>-<6 hex>`: readable, and random at the end because site names are global on Netlify and
 * Cloudflare (and Vercel would deploy into an existing project of the same name).
 */
export function providerName(projectSlug: string, orgSlug: string): string {
  const suffix = randomBytes(3).toString("hex");
  const base = `${projectSlug}-${orgSlug}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .slice(0, NAME_MAX - suffix.length - 1)
    .replace(/^-+|-+$/g, "");
  return `${base || "kiln"}-${suffix}`;
}
