import { DEPLOY_TARGET_LABELS, type Deployment, type ProjectDeployTarget } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { ExternalIcon } from "../../ui/icons.tsx";
import { Select } from "../../ui/input.tsx";

const KIND_LABEL = DEPLOY_TARGET_LABELS;

/** The org's deploy targets as this project sees them (auto-deploy, provider-side name). */
export function useProjectTargets(org: string, project: string, enabled: boolean) {
  return useQuery({
    queryKey: keys.projectDeployTargets(org, project),
    queryFn: () => api.deployTargets.ofProject(org, project),
    enabled,
  });
}

/** Where Publish sends the build: Kiln's hosting ("") or one of the org's deploy targets (its id). */
export function DestinationPicker({
  targets,
  value,
  onChange,
}: {
  targets: ProjectDeployTarget[];
  value: string;
  onChange: (value: string) => void;
}) {
  const id = useId();
  return (
    <div className="flex flex-wrap items-center gap-2">
      <label htmlFor={id} className="text-xs font-medium text-neutral-300">
        Destination
      </label>
      <Select id={id} value={value} onChange={(e) => onChange(e.target.value)} className="w-auto min-w-56">
        <option value="">Kiln hosting</option>
        {targets.map((t) => (
          <option key={t.target.id} value={t.target.id}>
            {t.target.name} ({KIND_LABEL[t.target.kind]})
          </option>
        ))}
      </Select>
    </div>
  );
}

/** Deploy to this target whenever a task's work is merged into main (board review). */
export function AutoDeploySwitch({
  org,
  project,
  link,
}: {
  org: string;
  project: string;
  link: ProjectDeployTarget;
}) {
  const qc = useQueryClient();
  // What the user just chose, shown from the click on (a mutation's pending state arrives a tick later, and
  // a controlled box would spring back meanwhile) until the link is read again after the change, or it fails.
  const [chosen, setChosen] = useState<boolean | null>(null);
  const set = useMutation({
    mutationFn: (on: boolean) => api.deployTargets.setAutoDeploy(org, project, link.target.id, on),
    onSettled: async () => {
      await qc.invalidateQueries({ queryKey: keys.projectDeployTargets(org, project) });
      setChosen(null);
    },
    meta: { errorToast: "Could not change auto-deploy" },
  });
  const checked = chosen ?? link.autoDeploy;
  return (
    <label className="flex items-center gap-2 text-xs text-neutral-300">
      <input
        type="checkbox"
        className="size-4 accent-accent-500"
        checked={checked}
        disabled={set.isPending}
        onChange={(e) => {
          setChosen(e.target.checked);
          set.mutate(e.target.checked);
        }}
      />
      Deploy to {link.target.name} when a task is merged into main
    </label>
  );
}

/** An external deployment's address on its host, as a link. */
export function ExternalUrl({ deployment: d }: { deployment: Deployment }) {
  if (!d.url) return null;
  return (
    <a
      href={d.url}
      target="_blank"
      rel="noopener noreferrer"
      className="flex min-w-0 items-center gap-1 text-xs text-accent-300 hover:underline"
    >
      <span className="truncate">{d.url}</span>
      <ExternalIcon className="size-3 shrink-0" />
    </a>
  );
}
