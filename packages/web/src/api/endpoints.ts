import { admin } from "./endpoints/admin.ts";
import { agents } from "./endpoints/agents.ts";
import { audit } from "./endpoints/audit.ts";
import { auth } from "./endpoints/auth.ts";
import { budgets } from "./endpoints/budgets.ts";
import { chats } from "./endpoints/chats.ts";
import { config } from "./endpoints/config.ts";
import { deploymentRuntime } from "./endpoints/deploymentRuntime.ts";
import { deploymentShares } from "./endpoints/deploymentShares.ts";
import { deployments } from "./endpoints/deployments.ts";
import { deployTargets } from "./endpoints/deployTargets.ts";
import { domains } from "./endpoints/domains.ts";
import { files } from "./endpoints/files.ts";
import { gitHosts } from "./endpoints/gitHosts.ts";
import { history } from "./endpoints/history.ts";
import { invitations } from "./endpoints/invitations.ts";
import { jobs } from "./endpoints/jobs.ts";
import { llm } from "./endpoints/llm.ts";
import { marketplace } from "./endpoints/marketplace.ts";
import { mcpServers } from "./endpoints/mcpServers.ts";
import { notifications } from "./endpoints/notifications.ts";
import { orgSso } from "./endpoints/orgSso.ts";
import { orgs } from "./endpoints/orgs.ts";
import { previewErrors } from "./endpoints/previewErrors.ts";
import { projectEnv } from "./endpoints/projectEnv.ts";
import { projects } from "./endpoints/projects.ts";
import { remotes } from "./endpoints/remotes.ts";
import { runtime } from "./endpoints/runtime.ts";
import { shareLinks } from "./endpoints/shareLinks.ts";
import { tasks } from "./endpoints/tasks.ts";
import { templates } from "./endpoints/templates.ts";
import { terminals } from "./endpoints/terminals.ts";
import { webhooks } from "./endpoints/webhooks.ts";
import { workers } from "./endpoints/workers.ts";

/** Every API call the studio makes, by domain noun (one file each in endpoints/), typed from the protocol's route contracts. */
export const api = {
  config,
  auth,
  orgs,
  invitations,
  templates,
  projects,
  projectEnv,
  deployments,
  deployTargets,
  gitHosts,
  shareLinks,
  remotes,
  deploymentShares,
  deploymentRuntime,
  domains,
  files,
  runtime,
  terminals,
  previewErrors,
  chats,
  agents,
  mcpServers,
  marketplace,
  history,
  llm,
  budgets,
  tasks,
  jobs,
  orgSso,
  webhooks,
  audit,
  admin,
  workers,
  notifications,
};
