import type { ImportedProject } from "@kiln/protocol";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";
import { ImportFromHost } from "./import-host-section.tsx";

/**
 * "Import from git": a new project from a repository's https URL (a branch and a token if it needs them);
 * the project stays linked to it, so its settings can push and pull.
 */
export function ImportGitButton({ org }: { org: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button size="md" onClick={() => setOpen(true)} className="w-full sm:w-auto">
        Import from git
      </Button>
      <ImportGitDialog org={org} open={open} onClose={() => setOpen(false)} />
    </>
  );
}

function ImportGitDialog({ org, open, onClose }: { org: string; open: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [url, setUrl] = useState("");
  const [branch, setBranch] = useState("");
  const [token, setToken] = useState("");
  const done = async ({ project, report }: ImportedProject) => {
    await qc.invalidateQueries({ queryKey: keys.projects(org) });
    qc.setQueryData(keys.project(org, project.slug), project);
    const notes = report.notes.filter((n) => !n.startsWith("linked to"));
    toast.success(
      `Imported ${project.name} as a ${report.template} project${notes[0] ? ` (${notes[0]})` : ""}`,
    );
    onClose();
    setUrl("");
    setBranch("");
    setToken("");
    void navigate({ to: "/$org/$project", params: { org, project: project.slug } });
  };
  const importing = useMutation({
    mutationFn: () =>
      api.remotes.importGit(org, {
        url: url.trim(),
        ...(branch.trim() ? { branch: branch.trim() } : {}),
        ...(token ? { auth: { token } } : {}),
      }),
    onSuccess: (r) => done(r),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    importing.mutate();
  };

  return (
    <Dialog open={open} onClose={onClose} title="Import from git">
      <ImportFromHost org={org} onImported={(r) => void done(r)} />
      <form className="mt-3 flex flex-col gap-3" onSubmit={submit}>
        <Field label="Repository URL" hint="https only, e.g. https://github.com/you/app.git">
          {(id) => (
            <Input
              id={id}
              autoFocus
              required
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              data-testid="import-git-url"
            />
          )}
        </Field>
        <Field label="Branch (optional)">
          {(id) => (
            <Input
              id={id}
              value={branch}
              placeholder="the default branch"
              onChange={(e) => setBranch(e.target.value)}
            />
          )}
        </Field>
        <Field
          label="Access token (optional)"
          hint="For a private repository; used for this import only, not kept."
        >
          {(id) => (
            <Input
              id={id}
              type="password"
              autoComplete="off"
              value={token}
              onChange={(e) => setToken(e.target.value.trim())}
            />
          )}
        </Field>
        {importing.isError && (
          <p role="alert" className="text-xs text-red-400">
            {describeError(importing.error)}
          </p>
        )}
        <div className="mt-2 flex justify-end gap-2">
          <Button type="button" onClick={onClose} disabled={importing.isPending}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" loading={importing.isPending}>
            Import
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
