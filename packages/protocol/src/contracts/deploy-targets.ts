import { z } from "zod";
import { Ok } from "../common.ts";
import {
  CreateDeployTargetBody,
  DeployTarget,
  DeployTargetId,
  ProjectDeployTarget,
  UpdateDeployTargetBody,
  UpdateProjectDeployTargetBody,
} from "../deploy-targets.ts";
import { Deployment } from "../deployments.ts";
import { defineRoute } from "./define.ts";
import { OrgParams, ProjectParams } from "./params.ts";

const tags = ["deploy-targets"];
const BASE = "/api/orgs/:org/deploy-targets";
const PROJECT = "/api/orgs/:org/projects/:project/deploy-targets";
const One = OrgParams.extend({ target: DeployTargetId });
const ProjectOne = ProjectParams.extend({ target: DeployTargetId });

/**
 * External deploy targets (ADR 0024): an org's accounts at Vercel, Netlify or Cloudflare Pages, and per
 * project, deploying there (the same build and log as Kiln's hosting) and whether merges to main do.
 */
export const deployTargets = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "The org's deploy targets (tokens are never shown)",
    tags,
    permission: "deployTargets.read",
    params: OrgParams,
    response: z.array(DeployTarget),
  }),
  create: defineRoute({
    method: "POST",
    path: BASE,
    summary: "Add a deploy target: a provider and its API token (admin)",
    tags,
    permission: "deployTargets.manage",
    params: OrgParams,
    body: CreateDeployTargetBody,
    status: 201,
    response: DeployTarget,
    errors: ["deploy_target_name_taken"],
  }),
  update: defineRoute({
    method: "PATCH",
    path: `${BASE}/:target`,
    summary: "Change a deploy target: name, token, team or account (admin)",
    tags,
    permission: "deployTargets.manage",
    params: One,
    body: UpdateDeployTargetBody,
    response: DeployTarget,
    errors: ["deploy_target_not_found", "deploy_target_name_taken"],
  }),
  remove: defineRoute({
    method: "DELETE",
    path: `${BASE}/:target`,
    summary: "Remove a deploy target and its token (admin); its deployments stay in the projects' history",
    tags,
    permission: "deployTargets.manage",
    params: One,
    response: Ok,
    errors: ["deploy_target_not_found"],
  }),
  ofProject: defineRoute({
    method: "GET",
    path: PROJECT,
    summary: "The org's deploy targets as a project sees them: auto-deploy and the provider-side name",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    response: z.array(ProjectDeployTarget),
    errors: ["project_not_found"],
  }),
  updateOfProject: defineRoute({
    method: "PATCH",
    path: `${PROJECT}/:target`,
    summary: "Turn deploying this project to a target on merges to main on or off",
    tags,
    permission: "projects.publish",
    params: ProjectOne,
    body: UpdateProjectDeployTargetBody,
    response: ProjectDeployTarget,
    errors: ["project_not_found", "deploy_target_not_found"],
  }),
  deploy: defineRoute({
    method: "POST",
    path: `${PROJECT}/:target/deployments`,
    summary: "Publish to an external target: build as for Kiln's hosting, then upload to the provider",
    tags,
    permission: "projects.publish",
    params: ProjectOne,
    status: 202,
    response: Deployment,
    errors: [
      "project_not_found",
      "deploy_target_not_found",
      "not_publishable",
      "deploy_target_static_only",
      "deployment_in_progress",
    ],
  }),
};
