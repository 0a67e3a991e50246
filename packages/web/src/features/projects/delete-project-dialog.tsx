import type { Project } from "@kiln/protocol";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { useDeleteProject } from "./mutations.ts";

export function DeleteProjectDialog({
  org,
  project,
  onClose,
}: {
  org: string;
  project: Project | undefined;
  onClose: () => void;
}) {
  const remove = useDeleteProject(org);
  const busy = remove.isPending;
  const confirm = () => project && remove.mutate(project, { onSuccess: onClose });

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
