import type { Role } from "./orgs.ts";

const RANK: Record<Role, number> = { owner: 5, admin: 4, developer: 3, reviewer: 2, viewer: 1 };

/**
 * What each action needs, in one table, so a route cannot quietly pick its own bar. The server enforces it
 * (orgs/roles.ts); the studio reads the same table to hide what would be refused.
 */
export const PERMISSIONS = {
  "org.read": "viewer",
  "org.update": "admin",
  "org.delete": "owner",
  "members.read": "viewer",
  "members.manage": "admin",
  "invitations.manage": "admin",
  "projects.read": "viewer",
  // Also a project's environment variables: their values (plain ones; never a secret's) and changes. Whoever may
  // change a project runs code in it and can read them there anyway (printenv); viewers and reviewers see only
  // which names exist.
  "projects.write": "developer",
  "projects.delete": "admin",
  // A public preview exposes the app to anyone with its URL: an admin's call.
  "projects.publish": "admin",
  // External deploy targets (Vercel, Netlify, Cloudflare Pages): every member sees which exist (never a token);
  // they hold an org's hosting credentials, so only admins add, change or remove them.
  "deployTargets.read": "viewer",
  "deployTargets.manage": "admin",
  // Connected git hosts (GitHub, GitLab, Gitea): the same rule as deploy targets; their tokens are the org's.
  "gitHosts.read": "viewer",
  "gitHosts.manage": "admin",
  // Usage, the call log, models, providers (never their keys) and prices.
  "llm.read": "viewer",
  // Spending tokens (the proxy; chats decide for themselves) is for those who may change projects.
  "llm.use": "developer",
  // Providers hold credentials and prices decide reported costs.
  "llm.manage": "admin",
  // Agent definitions (ADR 0035): every member sees them (and picks one for a chat); what an agent is told and
  // may run is an org setting, like its models and providers.
  "agents.read": "viewer",
  "agents.manage": "admin",
  "chats.read": "viewer",
  // Running the agent changes the project's files and runs code in its sandbox, like editing does.
  "chats.write": "developer",
  // Task boards (tasks, workflows, automation). Every member sees the board.
  "tasks.read": "viewer",
  // Reviewers review: they comment on tasks (questions, requested changes) but do not edit or move them.
  // Only its author edits a comment.
  "tasks.comment": "reviewer",
  "tasks.write": "developer",
  // Deleting someone else's comment is moderation.
  "tasks.moderate": "admin",
  // The workflow shapes how the whole team works, and automation rules start AI jobs (spending tokens, changing
  // code) with nobody asking each time: both are the call of whoever runs the project.
  "workflows.manage": "admin",
  "automation.manage": "admin",
  // AI jobs: every member sees them and their logs; starting or cancelling one runs the agent.
  "jobs.read": "viewer",
  "jobs.write": "developer",
  // A worker token lets a machine take (and read the instructions of) every job of the org.
  "workers.manage": "admin",
  // Webhooks send the org's events (projects, people, tasks) to a URL of the admin's choosing.
  "webhooks.manage": "admin",
  // The audit log names every member's sign-ins, addresses and actions.
  "audit.read": "admin",
} as const satisfies Record<string, Role>;
export type Permission = keyof typeof PERMISSIONS;

export function atLeast(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min];
}

export function can(role: Role, permission: Permission): boolean {
  return atLeast(role, PERMISSIONS[permission]);
}
