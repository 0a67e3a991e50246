import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";
import { useProject } from "../../state/project-context.tsx";
import { Button } from "../../ui/button.tsx";
import { toast } from "../../ui/toast.tsx";

/**
 * "Open pull request" in a task's review (ADR 0028): when the project's remote is linked through a connected
 * git host, the task's branch is pushed there and a pull (merge) request opened to the linked branch,
 * instead of (or before) merging inside Kiln. The request's address lands in the task's comments.
 */
export function PullRequestButton({ taskId, disabled }: { taskId: string; disabled: boolean }) {
  const { org, project } = useProject();
  const qc = useQueryClient();
  const remote = useQuery({
    queryKey: keys.remote(org, project),
    queryFn: () => api.remotes.get(org, project),
  });
  const open = useMutation({
    mutationFn: () => api.gitHosts.openPullRequest(org, project, taskId, {}),
    onSuccess: (pr) => {
      toast.success(`Opened #${pr.number}: ${pr.head} → ${pr.base}`);
      void qc.invalidateQueries({ queryKey: keys.comments(org, project, taskId) });
    },
    meta: { errorToast: "Could not open the pull request" },
  });
  if (!remote.data?.remote?.host) return null;
  return (
    <>
      {open.data && (
        <a
          href={open.data.url}
          target="_blank"
          rel="noreferrer noopener"
          className="self-center text-xs text-accent-400 underline"
        >
          Pull request #{open.data.number}
        </a>
      )}
      <Button loading={open.isPending} disabled={disabled || open.isPending} onClick={() => open.mutate()}>
        Open pull request
      </Button>
    </>
  );
}
