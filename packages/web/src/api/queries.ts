import { queryOptions } from "@tanstack/react-query";
import { api } from "./endpoints.ts";
import { keys } from "./keys.ts";

/**
 * The reads more than one feature makes (the signed-in user, an org's projects, the models to pick from):
 * declared once here, below the features, so no feature reaches into another for them. A read only one
 * feature makes stays in that feature's own queries.
 */

export const meQuery = queryOptions({
  queryKey: keys.me,
  queryFn: api.auth.me,
  staleTime: 60_000,
});

export const projectsQuery = (org: string) =>
  queryOptions({ queryKey: keys.projects(org), queryFn: () => api.projects.list(org) });

export const modelsQuery = (org: string) =>
  queryOptions({
    queryKey: keys.models(org),
    queryFn: () => api.llm.models(org),
    staleTime: 60_000,
  });

/** The org's agents (ADR 0035): settings edit them, the chat picks one. */
export const agentsQuery = (org: string) =>
  queryOptions({ queryKey: keys.agents(org), queryFn: () => api.agents.list(org), staleTime: 30_000 });

/** The org's MCP servers (ADR 0039): the agent form offers them, settings list them. */
export const mcpServersQuery = (org: string) =>
  queryOptions({
    queryKey: keys.mcpServers(org),
    queryFn: () => api.mcpServers.list(org),
    staleTime: 30_000,
  });

/** What the instance tells anyone (the sign-in providers on the log-in page and the account page). */
export const publicConfigQuery = queryOptions({
  queryKey: keys.publicConfig,
  queryFn: api.config,
  staleTime: 5 * 60_000,
});

/**
 * The org pages' gate: whether this session may open the org (an org bound to single sign-on refuses a
 * password session with `sso_required`, ADR 0031). Asked once per org, not on focus: its refusal stays on
 * screen until the user signs in again (a full page load) or another read of the org is refused.
 */
export const orgAccessQuery = (org: string) =>
  queryOptions({
    queryKey: keys.orgAccess(org),
    queryFn: () => api.orgs.get(org),
    staleTime: 5 * 60_000,
    retry: false,
    retryOnMount: false,
    refetchOnWindowFocus: false,
  });
