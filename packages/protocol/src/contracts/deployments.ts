import { Deployment, DeploymentId, DeploymentList, DeploymentLog } from "../deployments.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["deployments"];
const BASE = "/api/orgs/:org/projects/:project/deployments";
const One = ProjectParams.extend({ deployment: DeploymentId });

/**
 * Publishing: a production build of the project becomes a deployment, served publicly at the project's
 * address once it is current. Making one public is an admin's call, as a public preview is.
 */
export const deployments = {
  list: defineRoute({
    method: "GET",
    path: BASE,
    summary: "A project's deployments, newest first, and its public address",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    response: DeploymentList,
    errors: ["project_not_found"],
  }),
  create: defineRoute({
    method: "POST",
    path: BASE,
    summary: "Publish: build the project for production; the deployment becomes current once built",
    tags,
    permission: "projects.publish",
    params: ProjectParams,
    status: 202,
    response: Deployment,
    errors: ["project_not_found", "not_publishable", "deployment_in_progress"],
  }),
  get: defineRoute({
    method: "GET",
    path: `${BASE}/:deployment`,
    summary: "One deployment",
    tags,
    permission: "projects.read",
    params: One,
    response: Deployment,
    errors: ["project_not_found", "deployment_not_found"],
  }),
  log: defineRoute({
    method: "GET",
    path: `${BASE}/:deployment/log`,
    summary: "A deployment's build log",
    tags,
    permission: "projects.read",
    params: One,
    response: DeploymentLog,
    errors: ["project_not_found", "deployment_not_found"],
  }),
  promote: defineRoute({
    method: "POST",
    path: `${BASE}/:deployment/promote`,
    summary: "Serve this deployment at the public address (a rollback when it is an older one); instant",
    tags,
    permission: "projects.publish",
    params: One,
    response: Deployment,
    errors: ["project_not_found", "deployment_not_found", "deployment_not_ready", "deployment_external"],
  }),
};
