/**
 * Every query key of the studio, in one place: a feature reads and invalidates another feature's data through
 * these, never by importing that feature's queries. Keys nest, so invalidating a key also refreshes those below
 * it (a project's key covers its tasks, chats, tree…; an org's `llm` key covers models, prices and call logs).
 */
const org = (slug: string) => ["orgs", slug] as const;
const project = (o: string, p: string) => [...org(o), "projects", p] as const;
const task = (o: string, p: string, taskId: string) => [...project(o, p), "tasks", taskId] as const;
const llm = (o: string) => [...org(o), "llm"] as const;
const jobs = (o: string) => [...org(o), "jobs"] as const;

export const keys = {
  me: ["me"] as const,
  tokens: ["tokens"] as const,
  sessions: ["sessions"] as const,
  notificationPreferences: ["notification-preferences"] as const,
  accountDeletion: ["account-deletion"] as const,
  publicConfig: ["config"] as const,
  signInMethods: ["sign-in-methods"] as const,
  templates: ["templates"] as const,
  invitation: (token: string) => ["invitation", token] as const,

  org,
  /** Whether this session may open the org at all (`GET /api/orgs/:org`): the org pages' gate. */
  orgAccess: (o: string) => [...org(o), "access"] as const,
  members: (o: string) => [...org(o), "members"] as const,
  invitations: (o: string) => [...org(o), "invitations"] as const,
  workers: (o: string) => ["workers", o] as const,
  deployTargets: (o: string) => [...org(o), "deploy-targets"] as const,
  gitHosts: (o: string) => [...org(o), "git-hosts"] as const,
  /** The org's agents; an agent's versions below it. */
  agents: (o: string) => [...org(o), "agents"] as const,
  agent: (o: string, id: string) => [...org(o), "agents", id] as const,
  /** The org's MCP servers (ADR 0039). */
  mcpServers: (o: string) => [...org(o), "mcp-servers"] as const,
  /** The marketplace listings the org sees (by search words). */
  marketplace: (o: string) => [...org(o), "marketplace"] as const,
  /** Where a project came from in the marketplace and what it published there. */
  projectMarketplace: (o: string, p: string) => [...project(o, p), "marketplace"] as const,
  adminMarketplace: ["admin", "marketplace"] as const,
  workerTokens: (o: string) => ["worker-tokens", o] as const,
  webhooks: (o: string) => [...org(o), "webhooks"] as const,
  orgSso: (o: string) => [...org(o), "sso"] as const,
  webhookDeliveries: (o: string, id: string) => [...org(o), "webhooks", id, "deliveries"] as const,
  budgets: (o: string) => [...org(o), "budgets"] as const,
  audit: (o: string, filter: object) => [...org(o), "audit", filter] as const,
  adminOverview: ["admin", "overview"] as const,
  adminUsers: (q: string, offset: number) => ["admin", "users", q, offset] as const,
  adminOrgs: (q: string, offset: number) => ["admin", "orgs", q, offset] as const,
  adminSignup: ["admin", "signup-policy"] as const,
  adminOrg: (orgId: string) => ["admin", "org", orgId] as const,
  adminUsage: (days: number) => ["admin", "usage", days] as const,
  adminAudit: ["admin", "audit"] as const,
  usage: (o: string, days: number, from: string, groupBy: string) =>
    [...org(o), "usage", days, from, groupBy] as const,

  llm,
  llmSettings: (o: string) => [...llm(o), "settings"] as const,
  llmProviders: (o: string) => [...llm(o), "providers"] as const,
  llmPrices: (o: string) => [...llm(o), "prices"] as const,
  models: (o: string) => [...llm(o), "models"] as const,
  chatCosts: (o: string, chatId: string) => [...llm(o), "calls", "chat", chatId] as const,

  jobs,
  taskJobs: (o: string, taskId: string) => [...jobs(o), "task", taskId] as const,
  projectJobs: (o: string, projectId: string) => [...jobs(o), "project", projectId] as const,

  projects: (o: string) => [...org(o), "projects"] as const,
  project,
  tasks: (o: string, p: string) => [...project(o, p), "tasks"] as const,
  task,
  comments: (o: string, p: string, taskId: string) => [...task(o, p, taskId), "comments"] as const,
  activity: (o: string, p: string, taskId: string) => [...task(o, p, taskId), "activity"] as const,
  review: (o: string, p: string, taskId: string) => [...task(o, p, taskId), "review"] as const,
  workflow: (o: string, p: string) => [...project(o, p), "workflow"] as const,
  rules: (o: string, p: string) => [...project(o, p), "automation-rules"] as const,
  chats: (o: string, p: string) => [...project(o, p), "chats"] as const,
  /** Not under `chats`: refreshing the list must not refetch every open conversation. */
  chat: (o: string, p: string, chatId: string) => [...project(o, p), "chat", chatId] as const,
  history: (o: string, p: string) => [...project(o, p), "history"] as const,
  diff: (o: string, p: string, sha: string | undefined) => [...project(o, p), "diff", sha] as const,
  tree: (o: string, p: string) => [...project(o, p), "tree"] as const,
  runtime: (o: string, p: string) => [...project(o, p), "runtime"] as const,
  env: (o: string, p: string) => [...project(o, p), "env"] as const,
  deployments: (o: string, p: string) => [...project(o, p), "deployments"] as const,
  projectDeployTargets: (o: string, p: string) => [...project(o, p), "deploy-targets"] as const,
  shareLinks: (o: string, p: string) => [...project(o, p), "share-links"] as const,
  remote: (o: string, p: string) => [...project(o, p), "remote"] as const,
  domains: (o: string, p: string) => [...project(o, p), "domains"] as const,
  deploymentRuntimeLog: (o: string, p: string, id: string) =>
    [...project(o, p), "deployments", id, "runtime-log"] as const,
  deploymentShares: (o: string, p: string, id: string) =>
    [...project(o, p), "deployments", id, "share-links"] as const,
  deploymentLog: (o: string, p: string, id: string) => [...project(o, p), "deployments", id, "log"] as const,
  previewErrors: (o: string, p: string) => [...project(o, p), "preview-errors"] as const,
};
