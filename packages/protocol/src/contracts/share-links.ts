import { z } from "zod";
import { CreatedShareLink, CreateShareLinkBody, ShareLink, ShareLinkId } from "../share-links.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["share-links"];
const BASE = "/api/orgs/:org/projects/:project/share-links";

/** Share links of a project's preview: like making it public, for whoever holds the link; an admin's call. */
export const shareLinks = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "A project's share links (without the links themselves), newest first",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    response: z.array(ShareLink),
    errors: ["project_not_found"],
  }),
  create: defineRoute({
    method: "POST",
    path: BASE,
    summary: "Make a link that opens the preview for anyone holding it; the URL is shown only now",
    tags,
    permission: "projects.publish",
    params: ProjectParams,
    body: CreateShareLinkBody,
    status: 201,
    response: CreatedShareLink,
    errors: ["project_not_found", "too_many_share_links"],
  }),
  revoke: defineRoute({
    method: "DELETE",
    path: `${BASE}/:shareLink`,
    summary: "Revoke a share link: it stops working at once",
    tags,
    permission: "projects.publish",
    params: ProjectParams.extend({ shareLink: ShareLinkId }),
    response: ShareLink,
    errors: ["project_not_found", "share_link_not_found"],
  }),
};
