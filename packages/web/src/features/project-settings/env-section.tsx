import { ENV_LIMITS, type EnvVar } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button, IconButton } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { PencilIcon, PlusIcon, TrashIcon } from "../../ui/icons.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { Section } from "../settings/section.tsx";
import { EnvVarDialog } from "./env-var-dialog.tsx";
import { useRemoveEnvVar } from "./mutations.ts";

/** The project's environment variables: a table, and a dialog to add or change one. */
export function EnvSection({ org, project, canWrite }: { org: string; project: string; canWrite: boolean }) {
  const vars = useQuery({
    queryKey: keys.env(org, project),
    queryFn: () => api.projectEnv.list(org, project),
  });
  const remove = useRemoveEnvVar(org, project);
  const [dialog, setDialog] = useState<{ editing: EnvVar | undefined }>();
  const full = (vars.data?.length ?? 0) >= ENV_LIMITS.perProject;

  const confirmRemove = async (v: EnvVar) => {
    const ok = await confirmDialog({
      title: `Remove ${v.name}?`,
      description: "The app no longer sees it once the dev server restarts (at once, if it is running).",
      confirmLabel: "Remove",
      danger: true,
    });
    if (ok) remove.mutate(v.name);
  };

  return (
    <Section
      title="Environment variables"
      description={
        <>
          Given to the dev server, terminals and the agent's commands as{" "}
          <code className="font-mono">process.env</code>. Stored encrypted and never written into the
          repository. A running dev server restarts when they change; open terminals keep the values they
          started with.
        </>
      }
      action={
        canWrite && (
          <Button
            icon={<PlusIcon className="size-3" />}
            onClick={() => setDialog({ editing: undefined })}
            disabled={full}
            title={full ? `At most ${ENV_LIMITS.perProject} variables` : undefined}
          >
            Add variable
          </Button>
        )
      }
    >
      {vars.isPending ? (
        <LoadingBlock label="Loading variables" />
      ) : vars.isError ? (
        <ErrorState message={describeError(vars.error)} onRetry={() => vars.refetch()} />
      ) : vars.data.length === 0 ? (
        <EmptyState
          title="No variables yet"
          description="API keys and settings the app reads from its environment go here, not into its code."
        />
      ) : (
        <table className="w-full table-fixed border-separate border-spacing-0 overflow-hidden rounded-lg border border-line text-[13px]">
          <thead className="bg-surface-1 text-left text-xs text-neutral-500">
            <tr>
              <th className="w-[38%] px-3 py-2 font-medium">Name</th>
              <th className="px-3 py-2 font-medium">Value</th>
              {canWrite && <th className="w-20 px-3 py-2" aria-label="Actions" />}
            </tr>
          </thead>
          <tbody>
            {vars.data.map((v) => (
              <tr key={v.name} data-env-var={v.name} className="[&>td]:border-t [&>td]:border-line">
                <td className="truncate px-3 py-2 font-mono text-neutral-100" title={v.name}>
                  {v.name}
                </td>
                <td className="px-3 py-2">
                  <EnvValue variable={v} canWrite={canWrite} />
                </td>
                {canWrite && (
                  <td className="px-2 py-1.5 text-right whitespace-nowrap">
                    <IconButton label={`Change ${v.name}`} onClick={() => setDialog({ editing: v })}>
                      <PencilIcon className="size-3.5" />
                    </IconButton>
                    <IconButton label={`Remove ${v.name}`} onClick={() => void confirmRemove(v)}>
                      <TrashIcon className="size-3.5" />
                    </IconButton>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!canWrite && vars.data && vars.data.length > 0 && (
        <p className="text-xs text-neutral-500">Values are shown to members who can change the project.</p>
      )}
      <EnvVarDialog
        org={org}
        project={project}
        open={dialog !== undefined}
        editing={dialog?.editing}
        onClose={() => setDialog(undefined)}
      />
    </Section>
  );
}

function EnvValue({ variable, canWrite }: { variable: EnvVar; canWrite: boolean }) {
  if (variable.secret) {
    return (
      <span className="flex items-center gap-2">
        <span className="rounded bg-amber-500/15 px-1.5 py-px text-[11px] font-medium text-amber-300">
          secret
        </span>
        <span className="font-mono text-neutral-400" data-testid="masked-value">
          ••••••••{variable.hint ? variable.hint.replace("…", "") : ""}
        </span>
      </span>
    );
  }
  if (!canWrite || variable.value === null) return <span className="text-neutral-500">hidden</span>;
  return (
    <span className="block truncate font-mono text-neutral-300" title={variable.value}>
      {variable.value || <span className="text-neutral-500">(empty)</span>}
    </span>
  );
}
