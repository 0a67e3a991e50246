import { BUILTIN_AGENT_ID, FINAL_JOB_STATES, type Job } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import Markdown from "react-markdown";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { agentsQuery } from "../../api/queries.ts";
import { useProject } from "../../state/project-context.tsx";
import { Button } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { DrawerSection } from "./drawer-section.tsx";
import { JobLog } from "./job-log.tsx";
import { useCancelJob } from "./mutations.ts";
import { taskJobsQuery } from "./queries.ts";

/** A task's agent jobs: the last result, one button per job, and the chosen job's live log. */
export function TaskJobs({ taskId, showResult }: { taskId: string; showResult: boolean }) {
  const { org } = useProject();
  const cancel = useCancelJob();
  const jobs = useQuery(taskJobsQuery(org, taskId));
  const [shown, setShown] = useState<string | null>(null);
  const list = jobs.data ?? [];
  // The branch and summary of the work itself; a review's findings are in the comments and its log.
  const lastDone = list.find((j) => j.result && j.kind !== "review") ?? list.find((j) => j.result);
  // A job still at work is the interesting one; otherwise the newest.
  const active = list.find((j) => !FINAL_JOB_STATES.includes(j.state));
  const current = list.find((j) => j.id === shown) ?? active ?? list[0];

  return (
    <DrawerSection title="Agent jobs">
      {showResult && lastDone?.result && (
        <div
          data-testid="job-result"
          className="rounded-md border border-emerald-500/25 bg-emerald-500/5 p-2 text-[13px]"
        >
          {lastDone.result.branch && (
            <p className="text-xs text-neutral-400">
              Branch <code className="font-mono text-emerald-300">{lastDone.result.branch}</code>
            </p>
          )}
          <div className="prose-kiln mt-1 text-neutral-200">
            <Markdown>{lastDone.result.summary}</Markdown>
          </div>
        </div>
      )}
      {list.length === 0 && <p className="text-xs text-neutral-600">No jobs yet.</p>}
      {list.length > 0 && (
        <ul className="flex flex-wrap gap-1">
          {list.map((job) => (
            <li key={job.id}>
              <button
                type="button"
                onClick={() => setShown(job.id)}
                aria-pressed={job.id === current?.id}
                className={cn(
                  "rounded border px-1.5 py-0.5 text-[11px]",
                  job.id === current?.id
                    ? "border-accent-500 text-neutral-100"
                    : "border-line text-neutral-400",
                )}
              >
                {job.kind} · <span data-testid="job-state">{job.state}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      {current && (
        <>
          <div className="flex flex-wrap items-center gap-2 text-xs text-neutral-500">
            <JobAgent org={org} agent={current.agent} />
            <span>
              Attempt {current.attempt}/{current.maxAttempts}
            </span>
            {current.failure && <span className="text-red-300">{current.failure.message}</span>}
            {!FINAL_JOB_STATES.includes(current.state) && (
              <Button
                size="xs"
                variant="danger"
                className="ml-auto"
                disabled={current.cancelRequested}
                onClick={() => cancel.mutate({ jobId: current.id, taskId })}
              >
                {current.cancelRequested ? "Cancelling…" : "Cancel job"}
              </Button>
            )}
          </div>
          <JobLog key={current.id} org={org} job={current} />
        </>
      )}
    </DrawerSection>
  );
}

/**
 * The agent version a job ran (ADR 0036): "✏️ Copy editor v1". A job from before agents has no agent and ran
 * the built-in; an agent archived since is not listed, so it is read by id.
 */
function JobAgent({ org, agent }: { org: string; agent: Job["agent"] }) {
  const agents = useQuery(agentsQuery(org));
  const id = agent?.id ?? BUILTIN_AGENT_ID;
  const listed = agents.data?.find((a) => a.id === id);
  const archived = useQuery({
    queryKey: keys.agent(org, id),
    queryFn: () => api.agents.get(org, id),
    enabled: agents.isSuccess && !listed,
  });
  const shown = listed ?? archived.data;
  if (!shown) return null;
  return (
    <span data-testid="job-agent" className="text-purple-300" title={shown.description || undefined}>
      {shown.icon} {shown.name}
      {agent && <span className="text-neutral-500"> v{agent.version}</span>}
    </span>
  );
}
