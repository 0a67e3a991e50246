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

/** What the instance tells anyone (the sign-in providers on the log-in page and the account page). */
export const publicConfigQuery = queryOptions({
  queryKey: keys.publicConfig,
  queryFn: api.config,
  staleTime: 5 * 60_000,
});
