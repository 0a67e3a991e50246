import type { Project } from "@kiln/protocol";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { toast } from "../../ui/toast.tsx";

/**
 * A project's settings. The project is cached under the slug it was opened by: a changed slug caches it under
 * the new one too (the page moves there) and refreshes the org's list.
 */
export function useUpdateProject(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.projects.update>[2]) => api.projects.update(org, project, body),
    onSuccess: async (updated: Project) => {
      qc.setQueryData(keys.project(org, updated.slug), updated);
      if (updated.slug !== project) qc.setQueryData(keys.project(org, project), updated);
      await qc.invalidateQueries({ queryKey: keys.projects(org), exact: true });
    },
    // The forms show what was wrong next to the field.
    meta: { errorToast: false },
  });
}

function envSaved(restarted: boolean, what: string) {
  toast.success(restarted ? `${what}. Restarting the dev server so the app sees it…` : `${what}.`);
}

export function useSetEnvVar(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.projectEnv.set>[2]) => api.projectEnv.set(org, project, body),
    onSuccess: async ({ variable, restarted }) => {
      envSaved(restarted, `Saved ${variable.name}`);
      await qc.invalidateQueries({ queryKey: keys.env(org, project) });
      if (restarted) await qc.invalidateQueries({ queryKey: keys.runtime(org, project) });
    },
    meta: { errorToast: false },
  });
}

export function useRemoveEnvVar(org: string, project: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => api.projectEnv.remove(org, project, name),
    onSuccess: async ({ restarted }, name) => {
      envSaved(restarted, `Removed ${name}`);
      await qc.invalidateQueries({ queryKey: keys.env(org, project) });
      if (restarted) await qc.invalidateQueries({ queryKey: keys.runtime(org, project) });
    },
    meta: { errorToast: "Could not remove" },
  });
}
