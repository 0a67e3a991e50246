import type { GitHost } from "@kiln/protocol";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";
import { HostPicker } from "../git-hosts/host-picker.tsx";

/** Creates a repository on a connected host, links the project to it and pushes main. */
export function CreateRepositoryForm({
  org,
  project,
  hosts,
  onLinked,
}: {
  org: string;
  project: string;
  hosts: GitHost[];
  onLinked: () => void;
}) {
  const [host, setHost] = useState(hosts[0]?.id ?? "");
  const [name, setName] = useState(project);
  const [isPrivate, setPrivate] = useState(true);
  const create = useMutation({
    mutationFn: () => api.gitHosts.createRepository(org, project, { host, name, private: isPrivate }),
    onSuccess: (remote) => toast.success(`Created ${remote.url} and pushed main`),
    onSettled: onLinked,
    meta: { errorToast: "Could not create the repository" },
  });
  return (
    <form
      className="flex max-w-lg flex-col gap-2 border-t border-line pt-3"
      aria-label="Create a repository"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate();
      }}
    >
      <p className="text-xs text-neutral-400">Or create a new repository on a connected host:</p>
      <div className="flex flex-wrap gap-2">
        <div className="min-w-40 flex-1">
          <HostPicker hosts={hosts} value={host} onChange={setHost} />
        </div>
        <div className="min-w-40 flex-1">
          <Field label="Repository name">
            {(id) => (
              <Input
                id={id}
                required
                maxLength={100}
                pattern="[A-Za-z0-9_][A-Za-z0-9._\-]*"
                value={name}
                onChange={(e) => setName(e.target.value)}
              />
            )}
          </Field>
        </div>
      </div>
      <label className="flex items-center gap-2 text-xs text-neutral-300">
        <input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate(e.target.checked)} />
        Private
      </label>
      <div>
        <Button type="submit" loading={create.isPending} disabled={!host || !name}>
          Create repository
        </Button>
      </div>
    </form>
  );
}
