import { admin } from "./admin.ts";
import { agents } from "./agents.ts";
import { audit } from "./audit.ts";
import { auth } from "./auth.ts";
import { automation } from "./automation.ts";
import { budgets } from "./budgets.ts";
import { chats } from "./chats.ts";
import type { AnyRoute } from "./define.ts";
import { deployTargets } from "./deploy-targets.ts";
import { deploymentRuntime } from "./deployment-runtime.ts";
import { deploymentShares } from "./deployment-shares.ts";
import { deployments } from "./deployments.ts";
import { domains } from "./domains.ts";
import { files } from "./files.ts";
import { gitHosts } from "./git-hosts.ts";
import { history } from "./history.ts";
import { invitations } from "./invitations.ts";
import { jobs } from "./jobs.ts";
import { llm } from "./llm.ts";
import { marketplace } from "./marketplace.ts";
import { mcp } from "./mcp.ts";
import { mcpServers } from "./mcp-servers.ts";
import { members } from "./members.ts";
import { notifications } from "./notifications.ts";
import { ops } from "./ops.ts";
import { orgSso } from "./org-sso.ts";
import { orgs } from "./orgs.ts";
import { previewErrors } from "./preview-errors.ts";
import { projectEnv } from "./project-env.ts";
import { projects } from "./projects.ts";
import { remotes } from "./remotes.ts";
import { runtime } from "./runtime.ts";
import { shareLinks } from "./share-links.ts";
import { tasks } from "./tasks.ts";
import { templates } from "./templates.ts";
import { terminals } from "./terminals.ts";
import { webhooks } from "./webhooks.ts";
import { workers } from "./workers.ts";
import { workflows } from "./workflows.ts";

export * from "./define.ts";
export * from "./params.ts";

/**
 * Every route of the Kiln API, by domain noun. The server registers one handler per entry
 * (http/contract-router.ts), the studio calls them (web api/), and the sweeps read them.
 */
export const routes = {
  ops,
  auth,
  orgs,
  members,
  invitations,
  projects,
  projectEnv,
  deployments,
  deployTargets,
  shareLinks,
  deploymentShares,
  deploymentRuntime,
  domains,
  templates,
  files,
  runtime,
  previewErrors,
  terminals,
  history,
  remotes,
  gitHosts,
  agents,
  mcpServers,
  marketplace,
  chats,
  tasks,
  orgSso,
  webhooks,
  workflows,
  automation,
  jobs,
  workers,
  llm,
  budgets,
  notifications,
  audit,
  admin,
  mcp,
};

/** The routes as one list. */
export function allRoutes(): AnyRoute[] {
  return Object.values(routes).flatMap((group) => Object.values(group) as AnyRoute[]);
}
