import { z } from "zod";
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
};
