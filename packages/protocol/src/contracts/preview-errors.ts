import { Ok } from "../common.ts";
import { PreviewErrorList } from "../preview-errors.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["runtime"];
const ERRORS = "/api/orgs/:org/projects/:project/runtime/errors";

/** What the preview collected: the dev server's build errors and the page's browser errors. */
export const previewErrors = {
  list: defineRoute({
    method: "GET",
    path: ERRORS,
    summary: "Recent build and runtime errors: dev server output and the preview page's browser errors",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    response: PreviewErrorList,
    errors: ["project_not_found"],
  }),
  clear: defineRoute({
    method: "DELETE",
    path: ERRORS,
    summary: "Forget the errors seen so far (later ones are collected again)",
    tags,
    permission: "projects.write",
    params: ProjectParams,
    response: Ok,
    errors: ["project_not_found"],
  }),
};
