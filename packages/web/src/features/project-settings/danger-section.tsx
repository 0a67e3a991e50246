import type { Project } from "@kiln/protocol";
import { useNavigate } from "@tanstack/react-router";
import { useState } from "react";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { useDeleteProject } from "../projects/mutations.ts";

/** Deleting the project, after typing its name. */
export function DangerSection({ org, project }: { org: string; project: Project }) {
  const remove = useDeleteProject(org);
  const navigate = useNavigate();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");

  const confirm = () =>
    remove.mutate(project, {
      onSuccess: () => void navigate({ to: "/$org", params: { org }, replace: true }),
    });

  return (
    <section className="max-w-lg rounded-lg border border-red-500/30 p-4">
      <h2 className="text-sm font-medium text-red-300">Danger zone</h2>
      <p className="mt-1 text-xs text-neutral-400">
        Deleting the project removes its files, history, chats, board, environment variables and preview for
        every member. It cannot be undone; clone it first to keep a copy.
      </p>
      <Button
        variant="danger"
        className="mt-3"
        onClick={() => {
          setTyped("");
          setOpen(true);
        }}
      >
        Delete project…
      </Button>
      <Dialog open={open} onClose={() => setOpen(false)} title={`Delete ${project.name}?`}>
        <Field label={`Type ${project.name} to confirm`}>
          {(id) => (
            <Input
              id={id}
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoFocus
              autoComplete="off"
            />
          )}
        </Field>
        <div className="mt-5 flex justify-end gap-2">
          <Button onClick={() => setOpen(false)} disabled={remove.isPending}>
            Cancel
          </Button>
          <Button
            variant="danger"
            disabled={typed.trim() !== project.name}
            loading={remove.isPending}
            onClick={confirm}
          >
            Delete project
          </Button>
        </div>
      </Dialog>
    </section>
  );
}
