import type { Deployment } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useRef } from "react";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { cn } from "../../ui/cn.ts";

/**
 * A published server app's runtime log: what its process printed on this server, with its starts, crashes,
 * restarts and stops. Followed every two seconds while shown.
 */
export function RuntimeLog({
  org,
  project,
  deployment,
}: {
  org: string;
  project: string;
  deployment: Deployment;
}) {
  const log = useQuery({
    queryKey: keys.deploymentRuntimeLog(org, project, deployment.id),
    queryFn: () => api.deploymentRuntime.log(org, project, deployment.id),
    refetchInterval: 2000,
  });
  const end = useRef<HTMLDivElement>(null);
  const count = log.data?.length ?? 0;
  useEffect(() => {
    if (count > 0) end.current?.scrollIntoView({ block: "nearest" });
  }, [count]);
  return (
    <div
      role="log"
      aria-label={`Runtime log of deployment #${deployment.number}`}
      className="mt-2 max-h-64 overflow-auto rounded bg-surface-0 p-2 font-mono text-[11px] whitespace-pre-wrap"
    >
      {log.isPending && <p className="text-neutral-500">Loading…</p>}
      {log.data?.length === 0 && (
        <p className="text-neutral-500">
          Nothing yet: the app starts with its first visit, and its output shows here.
        </p>
      )}
      {log.data?.map((line) => (
        <p
          key={line.seq}
          className={cn(
            line.stream === "stderr" && "text-red-300",
            line.stream === "system" && "text-accent-300",
            line.stream === "stdout" && "text-neutral-300",
          )}
        >
          <span className="text-neutral-600">{new Date(line.at).toLocaleTimeString()} </span>
          {line.stream === "system" ? `— ${line.text}` : line.text}
        </p>
      ))}
      <div ref={end} />
    </div>
  );
}
