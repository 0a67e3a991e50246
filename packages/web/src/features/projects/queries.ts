import { queryOptions } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";

export const projectQuery = (org: string, project: string) =>
  queryOptions({
    queryKey: keys.project(org, project),
    queryFn: () => api.projects.get(org, project),
  });

export const templatesQuery = queryOptions({
  queryKey: keys.templates,
  queryFn: api.templates,
  staleTime: 5 * 60_000,
});
