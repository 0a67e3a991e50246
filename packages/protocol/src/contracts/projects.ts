import { z } from "zod";
import { ExportProjectQuery, ImportedProject, ImportProjectQuery, ZIP_TYPE, ZipBytes } from "../archives.ts";
import { Ok } from "../common.ts";
import { CreateProjectBody, Project, UpdateProjectBody } from "../projects.ts";
import { defineRoute } from "./define.ts";
import { OrgParams, ProjectParams } from "./params.ts";

const tags = ["projects"];
const PROJECTS = "/api/orgs/:org/projects";
const PROJECT = "/api/orgs/:org/projects/:project";

export const projects = {
  list: defineRoute({
    method: "GET",
    path: PROJECTS,
    summary: "Projects of an org",
    tags,
    permission: "projects.read",
    params: OrgParams,
    response: z.array(Project),
  }),
  create: defineRoute({
    method: "POST",
    path: PROJECTS,
    summary: "Create a project",
    tags,
    permission: "projects.write",
    params: OrgParams,
    body: CreateProjectBody,
    status: 201,
    response: Project,
    errors: ["slug_taken", "slug_reserved", "template_not_found", "limit_exceeded"],
  }),
  get: defineRoute({
    method: "GET",
    path: PROJECT,
    summary: "One project",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    response: Project,
    errors: ["project_not_found"],
  }),
  update: defineRoute({
    method: "PATCH",
    path: PROJECT,
    summary: "Update a project",
    tags,
    permission: "projects.write",
    params: ProjectParams,
    body: UpdateProjectBody,
    response: Project,
    errors: ["project_not_found", "slug_taken", "slug_reserved"],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: PROJECT,
    summary: "Delete a project and its files",
    tags,
    permission: "projects.delete",
    params: ProjectParams,
    response: Ok,
    errors: ["project_not_found"],
  }),
  export: defineRoute({
    method: "GET",
    path: `${PROJECT}/export`,
    summary: "Download a project's files as a zip (without node_modules, build output, .git and .kiln)",
    tags,
    // Every file, including what only writers see (env files): as much as a writer could read.
    permission: "projects.write",
    params: ProjectParams,
    query: ExportProjectQuery,
    response: ZipBytes,
    produces: ZIP_TYPE,
    errors: ["project_not_found", "payload_too_large", "history_unavailable"],
  }),
  import: defineRoute({
    method: "POST",
    // Not `projects/import`: that would shadow a project slugged "import" for other methods' sweeps and
    // read as one to every client.
    path: "/api/orgs/:org/project-imports",
    summary: "Create a project from an uploaded zip (the body, as application/zip)",
    tags,
    permission: "projects.write",
    params: OrgParams,
    query: ImportProjectQuery,
    upload: ZIP_TYPE,
    status: 201,
    response: ImportedProject,
    errors: ["archive_invalid", "archive_unsafe", "payload_too_large", "slug_taken", "limit_exceeded"],
  }),
};
