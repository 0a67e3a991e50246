import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { CreatedShareLink, CreateShareLinkBody, ShareLink } from "@kiln/protocol";
import { and, count, desc, eq, isNull } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { shareLinks } from "../db/schema-tenant.ts";
import { ConflictError, NotFoundError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import { previewOrigin } from "./host.ts";

type Row = typeof shareLinks.$inferSelect;

/** Where a share link lands on the preview's origin: `/__kiln/share/<token>`. */
export const SHARE_PATH = "/__kiln/share/";
/** Open (not revoked) links per project. */
const MAX_OPEN = 50;
/** A revocation on another replica takes effect within this long; on this one at once. */
const CHECK_TTL_MS = 5_000;

export interface ShareLinkOptions {
  database: Database;
  projects: ProjectService;
  publicUrl: string;
  appDomain: string;
}

/**
 * Share links of a project's preview (issue #13): a random token, shown once, kept as its SHA-256. The
 * preview gateway exchanges it for a cookie on the preview's origin and checks the link on each request
 * (revoked or expired: no more access). A holder views the app; only members' pages report errors to the
 * agent or get its reporter script.
 */
export class ShareLinkService {
  readonly #o: ShareLinkOptions;
  readonly #checked = new Map<string, { ok: boolean; at: number }>();

  constructor(options: ShareLinkOptions) {
    this.#o = options;
  }

  async list(access: OrgAccess, ref: string): Promise<ShareLink[]> {
    requirePermission(access.role, "projects.read");
    const project = await this.#o.projects.get(access, ref);
    const rows = await this.#o.database.tenant(access.org.schemaName, (tx) =>
      tx
        .select()
        .from(shareLinks)
        .where(eq(shareLinks.projectId, project.id))
        .orderBy(desc(shareLinks.createdAt))
        .limit(200),
    );
    return rows.map(toShareLink);
  }

  async create(access: OrgAccess, ref: string, input: CreateShareLinkBody): Promise<CreatedShareLink> {
    requirePermission(access.role, "projects.publish");
    const project = await this.#o.projects.get(access, ref);
    const token = randomBytes(32).toString("base64url");
    const row = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      const [open] = await tx
        .select({ n: count() })
        .from(shareLinks)
        .where(and(eq(shareLinks.projectId, project.id), isNull(shareLinks.revokedAt)));
      if ((open?.n ?? 0) >= MAX_OPEN)
        throw new ConflictError("too_many_share_links", `a project has at most ${MAX_OPEN} open share links`);
      const [inserted] = await tx
        .insert(shareLinks)
        .values({
          id: randomUUID(),
          projectId: project.id,
          tokenHash: hash(token),
          label: input.label,
          createdBy: access.userId,
          expiresAt: input.expiresInHours ? new Date(Date.now() + input.expiresInHours * 3_600_000) : null,
        })
        .returning();
      return inserted!;
    });
    const origin = previewOrigin(this.#o.publicUrl, this.#o.appDomain, {
      projectSlug: project.slug,
      orgSlug: access.org.slug,
    });
    return { link: toShareLink(row), url: `${origin}${SHARE_PATH}${token}` };
  }

  async revoke(access: OrgAccess, ref: string, id: string): Promise<ShareLink> {
    requirePermission(access.role, "projects.publish");
    const project = await this.#o.projects.get(access, ref);
    const row = await this.#o.database.tenant(access.org.schemaName, async (tx) => {
      const [found] = await tx
        .update(shareLinks)
        .set({ revokedAt: new Date() })
        .where(and(eq(shareLinks.projectId, project.id), eq(shareLinks.id, id), isNull(shareLinks.revokedAt)))
        .returning();
      if (found) return found;
      const [already] = await tx
        .select()
        .from(shareLinks)
        .where(and(eq(shareLinks.projectId, project.id), eq(shareLinks.id, id)));
      if (!already) throw new NotFoundError("share_link_not_found", "no such share link in this project");
      return already;
    });
    this.#checked.clear();
    return toShareLink(row);
  }

  /** Whether `token` is an open link of this project (the gateway asks on each request; cached briefly). */
  async valid(project: { schemaName: string; projectId: string }, token: string): Promise<boolean> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return false;
    const key = `${project.projectId}:${hash(token)}`;
    const cached = this.#checked.get(key);
    if (cached && Date.now() - cached.at < CHECK_TTL_MS) return cached.ok;
    const ok = await this.#o.database.tenant(project.schemaName, async (tx) => {
      const [row] = await tx
        .select({ id: shareLinks.id, expiresAt: shareLinks.expiresAt, revokedAt: shareLinks.revokedAt })
        .from(shareLinks)
        .where(and(eq(shareLinks.projectId, project.projectId), eq(shareLinks.tokenHash, hash(token))));
      if (!row || row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return false;
      await tx.update(shareLinks).set({ lastUsedAt: new Date() }).where(eq(shareLinks.id, row.id));
      return true;
    });
    if (this.#checked.size > 10_000) this.#checked.clear();
    this.#checked.set(key, { ok, at: Date.now() });
    return ok;
  }
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
