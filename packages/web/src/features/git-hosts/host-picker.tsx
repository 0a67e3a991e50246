import { GIT_HOST_LABELS, type GitHost } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { Field, Select } from "../../ui/input.tsx";

/** The org's connected git hosts (ADR 0028), for the Git panel's pickers. */
export function useGitHosts(org: string) {
  return useQuery({ queryKey: keys.gitHosts(org), queryFn: () => api.gitHosts.list(org) });
}

/** A connected host to use a saved token with: "" is a token typed per action. */
export function HostPicker({
  hosts,
  value,
  onChange,
  none,
}: {
  hosts: GitHost[];
  value: string;
  onChange: (id: string) => void;
  none?: string;
}) {
  return (
    <Field label="Git host">
      {(id) => (
        <Select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
          {none !== undefined && <option value="">{none}</option>}
          {hosts.map((h) => (
            <option key={h.id} value={h.id}>
              {h.name} · {GIT_HOST_LABELS[h.kind]} · {h.login}
            </option>
          ))}
        </Select>
      )}
    </Field>
  );
}
