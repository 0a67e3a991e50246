import type { Deployment } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { Dialog } from "../../ui/dialog.tsx";
import { ExternalIcon } from "../../ui/icons.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";
import { AutoDeploySwitch, DestinationPicker, ExternalUrl, useProjectTargets } from "./destination.tsx";
import { RuntimeLog } from "./runtime-log.tsx";
import { VersionShare } from "./version-share.tsx";

/**
 * Publish: the project's public address, a button that builds and publishes it, and its deployments, newest
 * first; any built one can be made current again at once (a rollback). Follows a build while it runs.
 * With the org's deploy targets (ADR 0024) a destination is picked: Kiln's hosting or an external host, whose
 * deployments show their status and address there, and whose auto-deploy on merge is switched here.
 */
export function PublishDialog({
  org,
  project,
  open,
  onClose,
  canPublish,
}: {
  org: string;
  project: string;
  open: boolean;
  onClose: () => void;
  canPublish: boolean;
}) {
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: keys.deployments(org, project),
    queryFn: () => api.deployments.list(org, project),
    enabled: open,
    // While a build runs, its status is followed.
    refetchInterval: (q) => (q.state.data?.deployments.some((d) => d.status === "building") ? 1000 : false),
  });
  const refresh = () => qc.invalidateQueries({ queryKey: keys.deployments(org, project) });
  const targets = useProjectTargets(org, project, open);
  const [destination, setDestination] = useState("");
  const link = targets.data?.find((t) => t.target.id === destination);
  const publish = useMutation({
    mutationFn: () =>
      link ? api.deployTargets.deploy(org, project, link.target.id) : api.deployments.create(org, project),
    onSettled: refresh,
    meta: { errorToast: "Could not publish" },
  });
  const promote = useMutation({
    mutationFn: (d: Deployment) => api.deployments.promote(org, project, d.id),
    onSuccess: (d) => toast.success(`Deployment #${d.number} is live`),
    onSettled: refresh,
    meta: { errorToast: "Could not switch deployments" },
  });
  const [shownLog, setShownLog] = useState<string>();
  const [shownShare, setShownShare] = useState<string>();
  const [shownRuntime, setShownRuntime] = useState<string>();
  const deployments = list.data?.deployments ?? [];
  const building = deployments.some((d) => d.status === "building");
  const live = deployments.find((d) => d.current);
  const latestThere = link
    ? deployments.find((d) => d.target?.id === link.target.id && d.status === "ready")
    : undefined;

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Publish"
      description="A production build of this project, served to anyone at its public address."
      className="w-[40rem]"
    >
      {list.isPending && <LoadingBlock />}
      {list.isError && <ErrorState message={describeError(list.error)} onRetry={() => void list.refetch()} />}
      {list.data && (
        <div className="flex flex-col gap-3">
          {!!targets.data?.length && (
            <DestinationPicker targets={targets.data} value={destination} onChange={setDestination} />
          )}
          <div className="flex flex-wrap items-center gap-2 rounded-md border border-line bg-surface-2 px-3 py-2">
            <div className="min-w-0 flex-1">
              <p className="text-[11px] text-neutral-500 uppercase">
                {link ? `Latest on ${link.target.name}` : "Public address"}
              </p>
              {link ? (
                latestThere?.url ? (
                  <ExternalUrl deployment={latestThere} />
                ) : (
                  <p className="truncate text-sm text-neutral-400">Not deployed there yet</p>
                )
              ) : live ? (
                <a
                  href={list.data.url}
                  target="_blank"
                  rel="noopener noreferrer"
                  className="flex items-center gap-1 truncate text-sm text-accent-300 hover:underline"
                >
                  {list.data.url}
                  <ExternalIcon className="size-3 shrink-0" />
                </a>
              ) : (
                <p className="truncate text-sm text-neutral-400">Not published yet</p>
              )}
            </div>
            {canPublish && (
              <Button
                variant="primary"
                loading={publish.isPending || building}
                onClick={() => publish.mutate()}
              >
                {building
                  ? "Publishing…"
                  : link
                    ? `Deploy to ${link.target.name}`
                    : live
                      ? "Publish again"
                      : "Publish"}
              </Button>
            )}
          </div>
          {link && canPublish && <AutoDeploySwitch org={org} project={project} link={link} />}
          {!canPublish && <p className="text-xs text-neutral-500">Only org admins can publish.</p>}
          <ul
            aria-label="Deployments"
            className="flex max-h-[50vh] flex-col divide-y divide-line overflow-y-auto"
          >
            {deployments.map((d) => (
              <li key={d.id} data-testid="deployment" className="py-2">
                <div className="flex flex-wrap items-center gap-2 text-xs">
                  <span className="font-medium text-neutral-100">#{d.number}</span>
                  <StatusBadge deployment={d} />
                  {d.target && (
                    <span className="rounded bg-surface-2 px-1.5 py-0.5 text-[11px] text-neutral-300">
                      {d.target.name}
                    </span>
                  )}
                  <span className="text-neutral-500">{new Date(d.createdAt).toLocaleString()}</span>
                  {d.files !== null && d.bytes !== null && (
                    <span className="text-neutral-500">
                      {d.files} files, {formatBytes(d.bytes)}
                    </span>
                  )}
                  <span className="ml-auto flex gap-1">
                    <Button
                      size="xs"
                      variant="ghost"
                      aria-expanded={shownLog === d.id}
                      onClick={() => setShownLog(shownLog === d.id ? undefined : d.id)}
                    >
                      Log
                    </Button>
                    {d.server && d.status === "ready" && (
                      <Button
                        size="xs"
                        variant="ghost"
                        aria-expanded={shownRuntime === d.id}
                        onClick={() => setShownRuntime(shownRuntime === d.id ? undefined : d.id)}
                      >
                        Runtime log
                      </Button>
                    )}
                    {canPublish && d.status === "ready" && !d.target && (
                      <Button
                        size="xs"
                        variant="ghost"
                        aria-expanded={shownShare === d.id}
                        onClick={() => setShownShare(shownShare === d.id ? undefined : d.id)}
                      >
                        Share this version
                      </Button>
                    )}
                    {canPublish && d.status === "ready" && !d.current && !d.target && (
                      <Button
                        size="xs"
                        loading={promote.isPending && promote.variables?.id === d.id}
                        onClick={() => promote.mutate(d)}
                      >
                        {live && d.number < live.number ? "Roll back to this" : "Make live"}
                      </Button>
                    )}
                  </span>
                </div>
                {d.target && d.status === "ready" && <ExternalUrl deployment={d} />}
                {d.error && <p className="mt-1 text-xs text-red-300">{d.error}</p>}
                {shownLog === d.id && <BuildLog org={org} project={project} deployment={d} />}
                {shownRuntime === d.id && <RuntimeLog org={org} project={project} deployment={d} />}
                {shownShare === d.id && <VersionShare org={org} project={project} deployment={d} />}
              </li>
            ))}
            {deployments.length === 0 && (
              <li className="py-3 text-xs text-neutral-500">No deployments yet.</li>
            )}
          </ul>
        </div>
      )}
    </Dialog>
  );
}

function StatusBadge({ deployment: d }: { deployment: Deployment }) {
  const label = d.current ? "live" : d.status;
  return (
    <span
      className={cn(
        "rounded px-1.5 py-0.5 text-[11px]",
        d.current && "bg-emerald-500/15 text-emerald-300",
        !d.current && d.status === "ready" && "bg-tint/6 text-neutral-300",
        d.status === "building" && "bg-amber-500/15 text-amber-300",
        d.status === "failed" && "bg-red-500/15 text-red-300",
      )}
    >
      {label}
    </span>
  );
}

function BuildLog({ org, project, deployment }: { org: string; project: string; deployment: Deployment }) {
  const log = useQuery({
    queryKey: keys.deploymentLog(org, project, deployment.id),
    queryFn: () => api.deployments.log(org, project, deployment.id),
    refetchInterval: deployment.status === "building" ? 1000 : false,
  });
  return (
    <pre
      role="log"
      aria-label={`Build log of deployment #${deployment.number}`}
      className="mt-2 max-h-64 overflow-auto rounded bg-surface-0 p-2 font-mono text-[11px] whitespace-pre-wrap text-neutral-300"
    >
      {log.data?.log || (log.isPending ? "Loading…" : "(empty)")}
    </pre>
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
