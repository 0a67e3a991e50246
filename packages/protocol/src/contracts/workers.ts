import { z } from "zod";
import { Id, Ok } from "../common.ts";
import {
  CreatedWorkerToken,
  CreateWorkerTokenBody,
  Worker,
  WorkerServerMessage,
  WorkerToken,
} from "../jobs.ts";
import { defineRoute } from "./define.ts";
import { OrgParams } from "./params.ts";

// The org's routes were always listed with the jobs they take.
const tags = ["jobs"];
const TOKENS = "/api/orgs/:org/workers/tokens";

export const workers = {
  list: defineRoute({
    method: "GET",
    path: "/api/orgs/:org/workers",
    summary: "Workers connected now that take the org's jobs",
    tags,
    permission: "jobs.read",
    params: OrgParams,
    response: z.array(Worker),
  }),
  tokens: defineRoute({
    method: "GET",
    path: TOKENS,
    summary: "The org's worker tokens (never their secrets)",
    tags,
    permission: "workers.manage",
    params: OrgParams,
    response: z.array(WorkerToken),
  }),
  createToken: defineRoute({
    method: "POST",
    path: TOKENS,
    summary: "Create a worker token (kiln_wrk_…, shown once) for `kiln worker`",
    tags,
    permission: "workers.manage",
    params: OrgParams,
    body: CreateWorkerTokenBody,
    status: 201,
    response: CreatedWorkerToken,
  }),
  revokeToken: defineRoute({
    method: "DELETE",
    path: `${TOKENS}/:workerTokenId`,
    summary: "Revoke a worker token; its workers are disconnected",
    tags,
    permission: "workers.manage",
    params: OrgParams.extend({ workerTokenId: Id }),
    response: Ok,
    errors: ["worker_token_not_found"],
  }),
  /**
   * Where `kiln worker` connects, with a worker token (Authorization: Bearer kiln_wrk_…) and never a user's
   * credentials: the route ignores them (`auth: "none"`) and checks the token itself before the upgrade.
   */
  socket: defineRoute({
    method: "GET",
    path: "/api/workers/socket",
    summary: "WebSocket for agent workers (Authorization: Bearer kiln_wrk_…); 426 without Upgrade",
    tags: ["workers"],
    auth: "none",
    stream: "websocket",
    response: WorkerServerMessage,
    errors: ["token_invalid", "upgrade_required"],
  }),
};
