import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { CreatedShareLink, CreateShareLinkBody, ShareLink } from "@kiln/protocol";
import { and, count, desc, eq, isNull } from "drizzle-orm";
import type { Database, Executor } from "../db/client.ts";
import { deploymentShareLinks, deployments, projects } from "../db/schema-tenant.ts";
import { ConflictError, NotFoundError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ArtifactManifest } from "./manifest.ts";
import { versionOrigin } from "./version-host.ts";

type Row = typeof deploymentShareLinks.$inferSelect;

/** Where a link lands on the deployment's host: `/__kiln/share/<token>` (as a preview's share link). */
export const VERSION_SHARE_PATH = "/__kiln/share/";
/** Open links per deployment. */
const MAX_OPEN = 20;
/** A revocation on another replica takes effect within this long; on this one at once. */
const CHECK_TTL_MS = 5_000;
/** Shared deployments' manifests kept in memory. */
const MANIFESTS_KEPT = 50;

export interface VersionShareOptions {
  database: Database;
  projects: ProjectService;
  publicUrl: string;
  publishDomain: string;
}

/** The deployment a version host names, as serving needs it. */
export interface SharedVersion {
  projectId: string;
  deploymentId: string;
  manifest: ArtifactManifest;
}

/**
 * Share links of one deployment ("share this version"): a random token, shown once, kept as its SHA-256.
 * The deployment's own host (version-host.ts) exchanges it for a cookie and checks it on every request, so a
 * revoked or expired link stops working; the deployment is served whether or not it is current.
 */
export class VersionShareService {
  readonly #o: VersionShareOptions;
  readonly #checked = new Map<string, { found: SharedVersion | undefined; at: number }>();
  readonly #manifests = new Map<string, ArtifactManifest>();

  constructor(options: VersionShareOptions) {
    this.#o = options;
  }

  async list(access: OrgAccess, ref: string, deploymentId: string): Promise<ShareLink[]> {
    requirePermission(access.role, "projects.read");
    const project = await this.#o.projects.get(access, ref);
    const rows = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      await deploymentOf(tx, project.id, deploymentId);
      return tx
        .select()
        .from(deploymentShareLinks)
        .where(eq(deploymentShareLinks.deploymentId, deploymentId))
        .orderBy(desc(deploymentShareLinks.createdAt))
        .limit(100);
    });
    return rows.map(toShareLink);
  }

  async create(
    access: OrgAccess,
    ref: string,
    deploymentId: string,
    input: CreateShareLinkBody,
  ): Promise<CreatedShareLink> {
    requirePermission(access.role, "projects.publish");
    const project = await this.#o.projects.get(access, ref);
    const token = randomBytes(32).toString("base64url");
    const { row, number } = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      const deployment = await deploymentOf(tx, project.id, deploymentId);
      if (deployment.status !== "ready")
        throw new ConflictError(
          "deployment_not_ready",
          `deployment #${deployment.number} is ${deployment.status}`,
        );
      const [open] = await tx
        .select({ n: count() })
        .from(deploymentShareLinks)
        .where(
          and(eq(deploymentShareLinks.deploymentId, deploymentId), isNull(deploymentShareLinks.revokedAt)),
        );
      if ((open?.n ?? 0) >= MAX_OPEN)
        throw new ConflictError(
          "too_many_share_links",
          `a deployment has at most ${MAX_OPEN} open share links`,
        );
      const [inserted] = await tx
        .insert(deploymentShareLinks)
        .values({
          id: randomUUID(),
          projectId: project.id,
          deploymentId,
          tokenHash: hash(token),
          label: input.label,
          createdBy: access.userId,
          expiresAt: input.expiresInHours ? new Date(Date.now() + input.expiresInHours * 3_600_000) : null,
        })
        .returning();
      return { row: inserted!, number: deployment.number };
    });
    const origin = versionOrigin(this.#o.publicUrl, this.#o.publishDomain, {
      projectSlug: project.slug,
      orgSlug: access.org.slug,
      number,
    });
    return { link: toShareLink(row), url: `${origin}${VERSION_SHARE_PATH}${token}` };
  }

  async revoke(access: OrgAccess, ref: string, deploymentId: string, id: string): Promise<ShareLink> {
    requirePermission(access.role, "projects.publish");
    const project = await this.#o.projects.get(access, ref);
    const row = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      await deploymentOf(tx, project.id, deploymentId);
      const mine = and(eq(deploymentShareLinks.deploymentId, deploymentId), eq(deploymentShareLinks.id, id));
      const [found] = await tx
        .update(deploymentShareLinks)
        .set({ revokedAt: new Date() })
        .where(and(mine, isNull(deploymentShareLinks.revokedAt)))
        .returning();
      if (found) return found;
      const [already] = await tx.select().from(deploymentShareLinks).where(mine);
      if (!already) throw new NotFoundError("share_link_not_found", "no such share link of this deployment");
      return already;
    });
    this.#checked.clear();
    return toShareLink(row);
  }

  /** The deployment `number` of the project, when `token` is an open link of it (cached briefly). */
  async open(
    schemaName: string,
    projectSlug: string,
    number: number,
    token: string,
  ): Promise<SharedVersion | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const key = `${schemaName}:${projectSlug}:${number}:${hash(token)}`;
    const cached = this.#checked.get(key);
    if (cached && Date.now() - cached.at < CHECK_TTL_MS) return cached.found;
    const found = await this.#o.database.tenant(schemaName, async (tx) => {
      const [row] = await tx
        .select({
          id: deploymentShareLinks.id,
          expiresAt: deploymentShareLinks.expiresAt,
          revokedAt: deploymentShareLinks.revokedAt,
          projectId: deployments.projectId,
          deploymentId: deployments.id,
        })
        .from(deploymentShareLinks)
        .innerJoin(deployments, eq(deployments.id, deploymentShareLinks.deploymentId))
        .innerJoin(projects, eq(projects.id, deployments.projectId))
        .where(
          and(
            eq(deploymentShareLinks.tokenHash, hash(token)),
            eq(projects.slug, projectSlug),
            eq(deployments.number, number),
          ),
        )
        .limit(1);
      if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return undefined;
      await tx
        .update(deploymentShareLinks)
        .set({ lastUsedAt: new Date() })
        .where(eq(deploymentShareLinks.id, row.id));
      const manifest = await this.#manifest(tx, row.deploymentId);
      return manifest && { projectId: row.projectId, deploymentId: row.deploymentId, manifest };
    });
    if (this.#checked.size > 10_000) this.#checked.clear();
    this.#checked.set(key, { found, at: Date.now() });
    return found;
  }

  /** A built artifact never changes: read once per deployment. */
  async #manifest(tx: Executor, deploymentId: string): Promise<ArtifactManifest | undefined> {
    const kept = this.#manifests.get(deploymentId);
    if (kept) return kept;
    const [row] = await tx
      .select({ artifact: deployments.artifact })
      .from(deployments)
      .where(eq(deployments.id, deploymentId));
    if (!row?.artifact) return undefined;
    if (this.#manifests.size >= MANIFESTS_KEPT) this.#manifests.delete(this.#manifests.keys().next().value!);
    this.#manifests.set(deploymentId, row.artifact as ArtifactManifest);
    return row.artifact as ArtifactManifest;
  }
}

async function deploymentOf(tx: Executor, projectId: string, id: string) {
  const [row] = await tx
    .select({ number: deployments.number, status: deployments.status })
    .from(deployments)
    .where(and(eq(deployments.projectId, projectId), eq(deployments.id, id)))
    .limit(1);
  if (!row) throw new NotFoundError("deployment_not_found", "no such deployment in this project");
  return row;
}

function hash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

function toShareLink(row: Row): ShareLink {
  return {
    id: row.id,
    label: row.label,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}
