import { z } from "zod";
import { DeploymentId } from "../deployments.ts";
import { CreatedShareLink, CreateShareLinkBody, ShareLink, ShareLinkId } from "../share-links.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["deployments"];
const BASE = "/api/orgs/:org/projects/:project/deployments/:deployment/share-links";
const One = ProjectParams.extend({ deployment: DeploymentId });

/**
 * Share links of one deployment ("share this version"): whoever holds one sees exactly that build, current or
 * not, at a host of its own; revocable, with an optional expiry, like the preview's. An admin's call.
 */
export const deploymentShares = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "A deployment's share links (without the links themselves), newest first",
    tags,
    permission: "projects.read",
    params: One,
    response: z.array(ShareLink),
    errors: ["project_not_found", "deployment_not_found"],
  }),
  create: defineRoute({
    method: "POST",
    path: BASE,
    summary: "Make a link that opens this deployment for anyone holding it; the URL is shown only now",
    tags,
    permission: "projects.publish",
    params: One,
    body: CreateShareLinkBody,
    status: 201,
    response: CreatedShareLink,
    errors: ["project_not_found", "deployment_not_found", "deployment_not_ready", "too_many_share_links"],
  }),
  revoke: defineRoute({
    method: "DELETE",
    path: `${BASE}/:versionLink`,
    summary: "Revoke a deployment's share link: it stops working at once",
    tags,
    permission: "projects.publish",
    params: One.extend({ versionLink: ShareLinkId }),
    response: ShareLink,
    errors: ["project_not_found", "deployment_not_found", "share_link_not_found"],
  }),
};
