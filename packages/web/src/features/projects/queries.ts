import { queryOptions } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";

export const projectsQuery = (org: string) =>
  queryOptions({ queryKey: ["orgs", org, "projects"], queryFn: () => api.projects.list(org) });

export const projectQuery = (org: string, project: string) =>
  queryOptions({
    queryKey: ["orgs", org, "projects", project],
    queryFn: () => api.projects.get(org, project),
  });

export const templatesQuery = queryOptions({
  queryKey: ["templates"],
  queryFn: api.templates,
  staleTime: 5 * 60_000,
});
