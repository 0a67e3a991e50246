import type { ImportedProject } from "@kiln/protocol";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Select } from "../../ui/input.tsx";
import { HostPicker, useGitHosts } from "../git-hosts/host-picker.tsx";

/**
 * Import from a connected git host (ADR 0028): the account's repositories (the first 100) and one of
 * them imported with the saved token; the project stays linked through the host.
 */
export function ImportFromHost({
  org,
  onImported,
}: {
  org: string;
  onImported: (r: ImportedProject) => void;
}) {
  const hosts = useGitHosts(org).data ?? [];
  const [host, setHost] = useState("");
  const chosen = host || hosts[0]?.id || "";
  const repos = useQuery({
    queryKey: [...keys.gitHosts(org), chosen, "repositories"],
    queryFn: () => api.gitHosts.repositories(org, chosen),
    enabled: !!chosen,
  });
  const [repository, setRepository] = useState("");
  const importing = useMutation({
    mutationFn: () => api.gitHosts.importRepository(org, chosen, { repository }),
    onSuccess: onImported,
  });
  if (hosts.length === 0) return null;
  return (
    <section
      className="flex flex-col gap-2 border-b border-line pb-3"
      aria-label="Import from a connected host"
    >
      <HostPicker hosts={hosts} value={chosen} onChange={setHost} />
      <Field label="Repository">
        {(id) => (
          <Select id={id} value={repository} onChange={(e) => setRepository(e.target.value)}>
            <option value="">{repos.isPending ? "Loading…" : "Choose a repository"}</option>
            {(repos.data ?? []).map((r) => (
              <option key={r.fullName} value={r.fullName}>
                {r.fullName}
                {r.private ? " (private)" : ""}
              </option>
            ))}
          </Select>
        )}
      </Field>
      {(repos.isError || importing.isError) && (
        <p role="alert" className="text-xs text-red-400">
          {describeError(repos.error ?? importing.error)}
        </p>
      )}
      <div className="flex justify-end">
        <Button
          variant="primary"
          loading={importing.isPending}
          disabled={!repository}
          onClick={() => importing.mutate()}
        >
          Import repository
        </Button>
      </div>
    </section>
  );
}
