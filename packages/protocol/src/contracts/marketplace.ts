import { z } from "zod";
import { Id } from "../common.ts";
import {
  InstalledListing,
  InstallListingBody,
  Listing,
  ListingDetail,
  MarketplaceQuery,
  ProjectMarketplace,
  PublishTemplateBody,
} from "../marketplace.ts";
import { defineRoute } from "./define.ts";
import { OrgParams, ProjectParams } from "./params.ts";

const tags = ["marketplace"];
const BASE = "/api/orgs/:org/marketplace";
const One = OrgParams.extend({ listingId: Id });
const AdminOne = z.strictObject({ listingId: Id });

/**
 * The marketplace (ADR 0040): templates published by orgs of this instance. An org sees its own listings and
 * the instance-wide ones an instance admin approved; installing one makes a new project of the org.
 */
export const marketplace = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "Listings the org sees: its own, and approved instance-wide ones; most installed first",
    tags,
    permission: "projects.read",
    params: OrgParams,
    query: MarketplaceQuery,
    response: z.array(Listing),
  }),
  get: defineRoute({
    method: "GET",
    path: `${BASE}/:listingId`,
    summary: "A listing with its versions (manifest and README each)",
    tags,
    permission: "projects.read",
    params: One,
    response: ListingDetail,
    errors: ["listing_not_found"],
  }),
  install: defineRoute({
    method: "POST",
    path: `${BASE}/:listingId/install`,
    summary: "Install a listing's latest version as a new project of the org",
    tags,
    permission: "projects.write",
    params: One,
    body: InstallListingBody,
    status: 201,
    response: InstalledListing,
    errors: ["listing_not_found", "limit_exceeded", "payload_too_large"],
  }),
  publish: defineRoute({
    method: "POST",
    path: "/api/orgs/:org/projects/:project/marketplace",
    summary:
      "Publish the project as a template: its files without secrets, dependencies or build output; again → a new version",
    tags,
    permission: "projects.publish",
    params: ProjectParams,
    body: PublishTemplateBody,
    status: 201,
    response: ListingDetail,
    errors: ["project_not_found", "payload_too_large"],
  }),
  project: defineRoute({
    method: "GET",
    path: "/api/orgs/:org/projects/:project/marketplace",
    summary: "The listing the project was installed from (and whether a newer version exists), and its own",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    response: ProjectMarketplace,
    errors: ["project_not_found"],
  }),
  pending: defineRoute({
    method: "GET",
    path: "/api/admin/marketplace",
    summary: "Instance-wide listings waiting for an instance admin's approval",
    tags,
    response: z.array(Listing),
    errors: ["not_instance_admin"],
  }),
  approve: defineRoute({
    method: "POST",
    path: "/api/admin/marketplace/:listingId/approve",
    summary: "Approve an instance-wide listing: every org sees it from now on",
    tags,
    params: AdminOne,
    response: Listing,
    errors: ["not_instance_admin", "listing_not_found"],
  }),
};
