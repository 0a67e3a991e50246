import type { Project } from "@kiln/protocol";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { toast } from "../../ui/toast.tsx";
import { projectsQuery } from "./queries.ts";

export function DeleteProjectDialog({
  org,
  project,
  onClose,
}: {
  org: string;
  project: Project | undefined;
  onClose: () => void;
}) {
  const queryClient = useQueryClient();
  const [busy, setBusy] = useState(false);

  const confirm = async () => {
    if (!project) return;
    setBusy(true);
    try {
      await api.projects.remove(org, project.slug);
      queryClient.setQueryData(projectsQuery(org).queryKey, (list) =>
        list?.filter((p) => p.id !== project.id),
      );
      queryClient.removeQueries({ queryKey: ["orgs", org, "projects", project.slug] });
      toast.success(`Deleted ${project.name}`);
      onClose();
    } catch (err) {
      toast.error(`Could not delete: ${describeError(err)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={project !== undefined} onClose={onClose} title={`Delete ${project?.name ?? "project"}?`}>
      <p className="text-sm text-neutral-300">
        The project, its files and its preview are removed for everyone in this organization. This cannot be
        undone.
      </p>
      <div className="mt-5 flex justify-end gap-2">
        <Button onClick={onClose} disabled={busy}>
          Cancel
        </Button>
        <Button variant="danger" onClick={confirm} loading={busy}>
          Delete project
        </Button>
      </div>
    </Dialog>
  );
}
