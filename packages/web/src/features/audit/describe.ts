import type { AuditAction, AuditEvent } from "@kiln/protocol";

/** What each recorded action reads as after the actor's name. */
const VERBS: Record<AuditAction, string> = {
  "auth.signed_in": "signed in",
  "member.joined": "joined the org",
  "member.role_changed": "changed a member's role",
  "member.removed": "removed a member",
  "member.left": "left the org",
  "invitation.created": "invited someone",
  "invitation.revoked": "revoked an invitation",
  "token.created": "created an API token",
  "token.revoked": "revoked an API token",
  "worker_token.created": "created a worker token",
  "worker_token.revoked": "revoked a worker token",
  "org.created": "created the org",
  "org.updated": "changed the org's settings",
  "org.deleted": "deleted the org",
  "sso.updated": "changed single sign-on",
  "sso.removed": "removed single sign-on",
  "llm.provider_created": "added a model provider",
  "llm.provider_updated": "changed a model provider",
  "llm.provider_deleted": "removed a model provider",
  "llm.settings_updated": "changed the model settings",
  "budget.set": "set a budget",
  "budget.removed": "removed a budget",
  "webhook.created": "added a webhook",
  "webhook.updated": "changed a webhook",
  "webhook.deleted": "deleted a webhook",
  "deploy_target.created": "added a deploy target",
  "deploy_target.updated": "changed a deploy target",
  "deploy_target.deleted": "removed a deploy target",
  "git_host.connected": "connected a git host",
  "git_host.removed": "removed a git host",
  "agent.created": "created an agent",
  "agent.updated": "edited an agent",
  "agent.archived": "archived an agent",
  "mcp_server.created": "added an MCP server",
  "mcp_server.updated": "changed an MCP server",
  "mcp_server.deleted": "removed an MCP server",
  "project.created": "created a project",
  "project.imported": "imported a project",
  "project.updated": "changed a project's settings",
  "project.deleted": "deleted a project",
  "project.env_set": "set an environment variable",
  "project.env_deleted": "removed an environment variable",
  "deployment.published": "published",
  "deployment.rolled_back": "rolled back a deployment",
  "domain.added": "added a custom domain",
  "domain.removed": "removed a custom domain",
  "task.merged": "merged a task",
  "agent.tool_call": "used a tool",
  "agent.model_call": "called a model",
  "admin.user_suspended": "suspended an account",
  "admin.user_unsuspended": "let an account back in",
  "admin.user_password_reset": "sent a password reset",
  "admin.user_deleted": "deleted an account",
  "admin.org_deleted": "deleted an org",
  "admin.signup_policy_updated": "changed who may sign up",
};

/** The families the filter offers, in the order people look for them. */
export const FAMILY_LABELS: Record<string, string> = {
  auth: "Sign-ins",
  member: "Members",
  invitation: "Invitations",
  token: "API tokens",
  worker_token: "Worker tokens",
  org: "Org",
  sso: "Single sign-on",
  llm: "Models",
  budget: "Budgets",
  webhook: "Webhooks",
  deploy_target: "Deploy targets",
  git_host: "Git hosts",
  project: "Projects",
  deployment: "Deployments",
  domain: "Domains",
  task: "Board",
  agent: "Agent actions",
  mcp_server: "MCP servers",
};

export function verbOf(action: AuditAction): string {
  return VERBS[action] ?? action;
}

/** Who did it, as a sentence's subject. */
export function actorOf(e: AuditEvent): string {
  const who = e.actor.email ?? (e.actor.userId ? "a deleted user" : null);
  if (e.actor.type === "system") return "Kiln";
  if (e.actor.type === "agent") return who ? `Agent for ${who}` : "Agent";
  return who ?? "Someone";
}

/** The details worth a glance, as `key: value` (nested values as JSON), at most `max` of them. */
export function detailsOf(e: AuditEvent, max = 6): string[] {
  return Object.entries(e.data)
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .slice(0, max)
    .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : String(v)}`);
}
