import type { Project } from "@kiln/protocol";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { toast } from "../../ui/toast.tsx";

/** Creates a project; the new one is in the list and its own query before the workspace opens it. */
export function useCreateProject(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.projects.create>[1]) => api.projects.create(org, body),
    onSuccess: async (project) => {
      await qc.invalidateQueries({ queryKey: keys.projects(org) });
      qc.setQueryData(keys.project(org, project.slug), project);
    },
    meta: { errorToast: "Could not create the project" },
  });
}

export function useDeleteProject(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (project: Project) => api.projects.remove(org, project.slug),
    onSuccess: (_, project) => {
      qc.setQueryData<Project[]>(keys.projects(org), (list) => list?.filter((p) => p.id !== project.id));
      qc.removeQueries({ queryKey: keys.project(org, project.slug) });
      toast.success(`Deleted ${project.name}`);
    },
    meta: { errorToast: "Could not delete" },
  });
}

/** A new project from a zip (an export, or any folder zipped); the toast says what was not recognised. */
export function useImportProject(org: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (file: File) =>
      api.projects.importZip(
        org,
        file.name
          .replace(/\.zip$/i, "")
          .trim()
          .slice(0, 100) || "Imported",
        file,
      ),
    onSuccess: async ({ project, report }) => {
      await qc.invalidateQueries({ queryKey: keys.projects(org) });
      qc.setQueryData(keys.project(org, project.slug), project);
      const notes = report.notes.length
        ? ` (${report.notes.length} note${report.notes.length > 1 ? "s" : ""}: ${report.notes[0]})`
        : "";
      toast.success(`Imported ${project.name} as a ${report.template} project${notes}`);
    },
    meta: { errorToast: "Could not import the zip" },
  });
}
