import { z } from "zod";
import { Id, Name, Text, Timestamp } from "./common.ts";
import { Project } from "./projects.ts";

/**
 * The marketplace (ADR 0040): an instance-wide catalog of project templates. An org publishes a project's
 * files (no secrets, no installed dependencies, no build output) as a listing; every publish is a new version.
 * `org` listings are seen by the publishing org only; `instance` ones by everyone once an instance admin
 * approved them.
 */
export const ListingVisibility = z.enum(["org", "instance"]);
export type ListingVisibility = z.infer<typeof ListingVisibility>;

/** The largest zip of a version's files (compressed): a template is a starter, not a data set. */
export const MARKETPLACE_MAX_ZIP_BYTES = 20 * 1024 * 1024;
/** The longest README kept with a version (longer ones are cut). */
export const MARKETPLACE_MAX_README = 64 * 1024;

export const ListingManifest = z.object({
  name: z.string(),
  description: z.string(),
  version: z.number().int().describe("1 for the first publish, N+1 for each one after"),
  template: z.string().describe("The Kiln template the project is based on (its dependency cache is reused)"),
  files: z.number().int(),
  bytes: z.number().int(),
});
export type ListingManifest = z.infer<typeof ListingManifest>;

export const Listing = z.object({
  id: Id,
  name: z.string(),
  description: z.string(),
  template: z.string(),
  visibility: ListingVisibility,
  /** `pending`: an instance listing no admin approved yet (seen by its own org only). */
  status: z.enum(["listed", "pending"]),
  publisher: z.object({ orgId: Id, orgName: z.string(), projectId: Id.nullable() }),
  latestVersion: z.number().int(),
  installs: z.number().int(),
  mine: z.boolean().describe("Published by the org asking"),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type Listing = z.infer<typeof Listing>;

export const ListingVersion = z.object({
  version: z.number().int(),
  manifest: ListingManifest,
  readme: z.string().nullable(),
  createdAt: Timestamp,
});
export type ListingVersion = z.infer<typeof ListingVersion>;

export const ListingDetail = Listing.extend({ versions: z.array(ListingVersion) });
export type ListingDetail = z.infer<typeof ListingDetail>;

export const MarketplaceQuery = z.strictObject({
  q: z.string().max(100).optional().describe("Words in a listing's name or description"),
});

/** Kept in a jsonb manifest: no lone surrogates (PostgreSQL's JSON refuses them). */
const wellFormed = (s: string) => s.isWellFormed();

export const PublishTemplateBody = z.strictObject({
  name: Name.refine(wellFormed, "must be valid Unicode"),
  description: Text(2000).refine(wellFormed, "must be valid Unicode").default(""),
  visibility: ListingVisibility.default("org"),
});
export type PublishTemplateBody = z.input<typeof PublishTemplateBody>;

export const InstallListingBody = z.strictObject({
  name: Name.describe("The new project's name"),
});
export type InstallListingBody = z.infer<typeof InstallListingBody>;

export const InstalledListing = z.object({ project: Project, listingId: Id, version: z.number().int() });
export type InstalledListing = z.infer<typeof InstalledListing>;

/** Where a project came from in the marketplace, and what it published there. */
export const ProjectMarketplace = z.object({
  installedFrom: z
    .object({
      listingId: Id,
      name: z.string(),
      version: z.number().int(),
      latestVersion: z.number().int(),
      updateAvailable: z.boolean(),
    })
    .nullable(),
  published: Listing.nullable(),
});
export type ProjectMarketplace = z.infer<typeof ProjectMarketplace>;
