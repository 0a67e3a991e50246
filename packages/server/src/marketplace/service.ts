import { randomUUID } from "node:crypto";
import {
  type InstalledListing,
  type InstallListingBody,
  type Listing,
  type ListingDetail,
  type ListingManifest,
  MARKETPLACE_MAX_README,
  MARKETPLACE_MAX_ZIP_BYTES,
  type ProjectMarketplace,
  PublishTemplateBody,
} from "@kiln/protocol";
import { and, desc, eq, ilike, isNotNull, isNull, or, type SQL, sql } from "drizzle-orm";
import type { InstanceAdmins } from "../admin/identity.ts";
import { contains } from "../admin/search.ts";
import type { ProjectArchives } from "../archive/service.ts";
import type { Database, Executor } from "../db/client.ts";
import { marketplaceInstalls, marketplaceListings, marketplaceVersions, orgs } from "../db/schema-shared.ts";
import { NotFoundError } from "../errors/errors.ts";
import { requirePermission } from "../orgs/roles.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";

export interface MarketplaceDeps {
  database: Database;
  archives: ProjectArchives;
  projects: ProjectService;
  admins: InstanceAdmins;
  /** The largest zip of a version (tests make it small). */
  maxZipBytes?: number;
}

type ListingRow = typeof marketplaceListings.$inferSelect & { orgName: string };

const notFound = () => new NotFoundError("listing_not_found", "listing not found");

/**
 * The marketplace (ADR 0040): an org publishes a project's files as a versioned template listing (shared
 * schema, instance-wide); any org that sees a listing installs it as a new project. What an org sees: its own
 * listings, and `instance` ones an instance admin approved. Files go out through the archive's export walk
 * (no secrets, dependencies or build output) and come back in through its import (checked, written by
 * descriptor and owned by the new project's user as they are made).
 */
export class MarketplaceService {
  readonly #d: MarketplaceDeps;

  constructor(deps: MarketplaceDeps) {
    this.#d = deps;
    // A deleted project is no longer "installed from" anything, and its listing keeps no dangling project.
    deps.projects.onDelete(async (orgId, projectId) => {
      await deps.database.db
        .delete(marketplaceInstalls)
        .where(and(eq(marketplaceInstalls.orgId, orgId), eq(marketplaceInstalls.projectId, projectId)));
      await deps.database.db
        .update(marketplaceListings)
        .set({ projectId: null })
        .where(and(eq(marketplaceListings.orgId, orgId), eq(marketplaceListings.projectId, projectId)));
    });
  }

  async list(access: OrgAccess, q?: string): Promise<Listing[]> {
    requirePermission(access.role, "projects.read");
    const words = q?.trim();
    const search = words
      ? or(
          ilike(marketplaceListings.name, contains(words)),
          ilike(marketplaceListings.description, contains(words)),
        )
      : undefined;
    const rows = await this.#select(this.#d.database.db, and(visibleTo(access.org.id), search));
    return rows.map((row) => toListing(row, access.org.id));
  }

  async get(access: OrgAccess, listingId: string): Promise<ListingDetail> {
    requirePermission(access.role, "projects.read");
    const row = await this.#visible(this.#d.database.db, access, listingId);
    return this.#detail(this.#d.database.db, row, access.org.id);
  }

  /** Publishes the project: a new listing, or the next version of the one it published before. */
  async publish(access: OrgAccess, ref: string, input: PublishTemplateBody): Promise<ListingDetail> {
    requirePermission(access.role, "projects.publish");
    const body = PublishTemplateBody.parse(input);
    const project = await this.#d.projects.get(access, ref);
    const snap = await this.#d.archives.snapshot(access, project.id, {
      maxZipBytes: this.#d.maxZipBytes ?? MARKETPLACE_MAX_ZIP_BYTES,
      readmeBytes: MARKETPLACE_MAX_README,
    });
    return this.#d.database.transaction(async (tx) => {
      await tx
        .insert(marketplaceListings)
        .values({
          id: randomUUID(),
          orgId: access.org.id,
          projectId: project.id,
          name: body.name,
          description: body.description,
          template: snap.template,
          visibility: body.visibility,
        })
        .onConflictDoNothing();
      const [current] = await tx
        .select()
        .from(marketplaceListings)
        .where(
          and(eq(marketplaceListings.orgId, access.org.id), eq(marketplaceListings.projectId, project.id)),
        )
        .for("update");
      if (!current) throw notFound();
      const version = current.latestVersion + 1;
      // Made instance-wide now: an admin approves it before other orgs see it.
      const approved = body.visibility === "instance" && current.visibility === "instance";
      await tx
        .update(marketplaceListings)
        .set({
          name: body.name,
          description: body.description,
          template: snap.template,
          visibility: body.visibility,
          latestVersion: version,
          approvedAt: approved ? current.approvedAt : null,
          approvedBy: approved ? current.approvedBy : null,
          updatedAt: new Date(),
        })
        .where(eq(marketplaceListings.id, current.id));
      const manifest: ListingManifest = {
        name: body.name,
        description: body.description,
        version,
        template: snap.template,
        files: snap.files,
        bytes: snap.bytes,
      };
      await tx.insert(marketplaceVersions).values({
        listingId: current.id,
        version,
        manifest,
        readme: snap.readme ?? null,
        archive: snap.zip,
        createdBy: access.userId,
      });
      const [row] = await this.#select(tx, eq(marketplaceListings.id, current.id));
      return this.#detail(tx, row!, access.org.id);
    });
  }

  /** A new project of the org from the listing's latest version. */
  async install(access: OrgAccess, listingId: string, body: InstallListingBody): Promise<InstalledListing> {
    requirePermission(access.role, "projects.write");
    const listing = await this.#visible(this.#d.database.db, access, listingId);
    const [latest] = await this.#d.database.db
      .select({ version: marketplaceVersions.version, archive: marketplaceVersions.archive })
      .from(marketplaceVersions)
      .where(eq(marketplaceVersions.listingId, listing.id))
      .orderBy(desc(marketplaceVersions.version))
      .limit(1);
    if (!latest) throw notFound();
    const { project } = await this.#d.archives.importZip(
      access,
      body.name,
      latest.archive,
      listing.template,
      {
        kind: "marketplace",
        listingId: listing.id,
        version: latest.version,
      },
    );
    await this.#d.database.transaction(async (tx) => {
      await tx.insert(marketplaceInstalls).values({
        orgId: access.org.id,
        projectId: project.id,
        listingId: listing.id,
        version: latest.version,
      });
      await tx
        .update(marketplaceListings)
        .set({ installs: sql`${marketplaceListings.installs} + 1` })
        .where(eq(marketplaceListings.id, listing.id));
    });
    return { project, listingId: listing.id, version: latest.version };
  }

  /** Where the project came from (and whether that listing has a newer version), and what it published. */
  async project(access: OrgAccess, ref: string): Promise<ProjectMarketplace> {
    const project = await this.#d.projects.get(access, ref);
    const db = this.#d.database.db;
    const [installed] = await db
      .select({
        listingId: marketplaceInstalls.listingId,
        version: marketplaceInstalls.version,
        name: marketplaceListings.name,
        latestVersion: marketplaceListings.latestVersion,
      })
      .from(marketplaceInstalls)
      .innerJoin(marketplaceListings, eq(marketplaceListings.id, marketplaceInstalls.listingId))
      .where(
        and(eq(marketplaceInstalls.orgId, access.org.id), eq(marketplaceInstalls.projectId, project.id)),
      );
    const [published] = await this.#select(
      db,
      and(eq(marketplaceListings.orgId, access.org.id), eq(marketplaceListings.projectId, project.id)),
    );
    return {
      installedFrom: installed
        ? { ...installed, updateAvailable: installed.latestVersion > installed.version }
        : null,
      published: published ? toListing(published, access.org.id) : null,
    };
  }

  /** Instance-wide listings no admin approved yet (instance admins only). */
  async pending(userId: string): Promise<Listing[]> {
    await this.#d.admins.require(userId);
    const rows = await this.#select(
      this.#d.database.db,
      and(eq(marketplaceListings.visibility, "instance"), isNull(marketplaceListings.approvedAt)),
    );
    return rows.map((row) => toListing(row, undefined));
  }

  async approve(userId: string, listingId: string): Promise<Listing> {
    await this.#d.admins.require(userId);
    const [updated] = await this.#d.database.db
      .update(marketplaceListings)
      .set({ approvedAt: new Date(), approvedBy: userId })
      .where(and(eq(marketplaceListings.id, listingId), eq(marketplaceListings.visibility, "instance")))
      .returning({ id: marketplaceListings.id });
    if (!updated) throw notFound();
    const [row] = await this.#select(this.#d.database.db, eq(marketplaceListings.id, listingId));
    return toListing(row!, undefined);
  }

  #select(ex: Executor, where: SQL | undefined) {
    return ex
      .select({ listing: marketplaceListings, orgName: orgs.name })
      .from(marketplaceListings)
      .innerJoin(orgs, eq(orgs.id, marketplaceListings.orgId))
      .where(where)
      .orderBy(desc(marketplaceListings.installs), desc(marketplaceListings.updatedAt))
      .limit(200)
      .then((rows) => rows.map((r) => ({ ...r.listing, orgName: r.orgName })));
  }

  async #visible(ex: Executor, access: OrgAccess, listingId: string): Promise<ListingRow> {
    const [row] = await this.#select(
      ex,
      and(eq(marketplaceListings.id, listingId), visibleTo(access.org.id)),
    );
    if (!row) throw notFound();
    return row;
  }

  async #detail(ex: Executor, row: ListingRow, orgId: string): Promise<ListingDetail> {
    const versions = await ex
      .select({
        version: marketplaceVersions.version,
        manifest: marketplaceVersions.manifest,
        readme: marketplaceVersions.readme,
        createdAt: marketplaceVersions.createdAt,
      })
      .from(marketplaceVersions)
      .where(eq(marketplaceVersions.listingId, row.id))
      .orderBy(desc(marketplaceVersions.version));
    return {
      ...toListing(row, orgId),
      versions: versions.map((v) => ({
        version: v.version,
        manifest: v.manifest as ListingManifest,
        readme: v.readme,
        createdAt: v.createdAt.toISOString(),
      })),
    };
  }
}

/** An org's own listings, and instance-wide ones an admin approved. */
function visibleTo(orgId: string): SQL {
  return or(
    eq(marketplaceListings.orgId, orgId),
    and(eq(marketplaceListings.visibility, "instance"), isNotNull(marketplaceListings.approvedAt)),
  )!;
}

function toListing(row: ListingRow, orgId: string | undefined): Listing {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    template: row.template,
    visibility: row.visibility as Listing["visibility"],
    status: row.visibility === "instance" && !row.approvedAt ? "pending" : "listed",
    publisher: { orgId: row.orgId, orgName: row.orgName, projectId: row.projectId },
    latestVersion: row.latestVersion,
    installs: row.installs,
    mine: row.orgId === orgId,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
