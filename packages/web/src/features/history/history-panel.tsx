import type { Checkpoint } from "@kiln/protocol";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { useProject } from "../../state/project-context.tsx";
import { Button } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { Dialog } from "../../ui/dialog.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { relativeTime } from "../projects/time.ts";
import { DiffView } from "./diff-view.tsx";
import { useRestoreActions } from "./restore.ts";

/** The project's checkpoints, newest first: what each changed, and a way back to any of them. */
export function HistoryPanel() {
  const { org, project, canWrite } = useProject();
  const restore = useRestoreActions(org, project);
  const [viewing, setViewing] = useState<Checkpoint>();
  const history = useInfiniteQuery({
    queryKey: keys.history(org, project),
    queryFn: ({ pageParam }) => api.history.list(org, project, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (page) => page.nextBefore ?? undefined,
    refetchInterval: 15_000,
  });

  if (history.isPending) return <LoadingBlock label="Loading the history" />;
  if (history.isError) {
    return <ErrorState message={describeError(history.error)} onRetry={() => history.refetch()} />;
  }
  const checkpoints = history.data.pages.flatMap((p) => p.checkpoints);
  if (checkpoints.length === 0) {
    return (
      <EmptyState title="No history yet" description="Each agent turn that changes files is saved here." />
    );
  }
  return (
    <div className="min-h-0 flex-1 overflow-y-auto">
      <ol aria-label="Checkpoints" className="flex flex-col py-1">
        {checkpoints.map((c, i) => (
          <li
            key={c.sha}
            data-sha={c.shortSha}
            className="group relative flex gap-2.5 px-3 py-2 hover:bg-tint/3"
          >
            <Rail
              first={i === 0}
              last={i === checkpoints.length - 1 && !history.hasNextPage}
              kind={kindOf(c)}
            />
            <div className="min-w-0 flex-1">
              <p className="truncate text-[13px] text-neutral-200" title={c.message}>
                {c.message}
              </p>
              <p className="mt-0.5 flex flex-wrap items-center gap-x-2 text-[11px] text-neutral-500">
                <span className="font-mono">{c.shortSha}</span>
                <span>{relativeTime(c.createdAt)}</span>
                <span className="font-mono">
                  <span className="text-emerald-400/80">+{c.stats.insertions}</span>{" "}
                  <span className="text-red-400/80">−{c.stats.deletions}</span>
                </span>
                <span>{c.filesChanged === 1 ? "1 file" : `${c.filesChanged} files`}</span>
                {i === 0 && <span className="rounded bg-accent-500/15 px-1 text-accent-400">current</span>}
              </p>
              <div className="mt-1.5 flex gap-1">
                <Button size="xs" variant="ghost" onClick={() => setViewing(c)}>
                  View changes
                </Button>
                {canWrite && i > 0 && (
                  <Button
                    size="xs"
                    variant="ghost"
                    onClick={() => void restore.restore(c.sha, `checkpoint ${c.shortSha}`)}
                  >
                    Restore
                  </Button>
                )}
              </div>
            </div>
          </li>
        ))}
      </ol>
      {history.hasNextPage && (
        <div className="p-3">
          <Button
            size="xs"
            className="w-full"
            loading={history.isFetchingNextPage}
            onClick={() => void history.fetchNextPage()}
          >
            Show older
          </Button>
        </div>
      )}
      <DiffDialog checkpoint={viewing} onClose={() => setViewing(undefined)} />
    </div>
  );
}

type Kind = "agent" | "restore" | "other";

function kindOf(c: Checkpoint): Kind {
  if (c.restoredFrom) return "restore";
  return c.messageId ? "agent" : "other";
}

/** A dot per checkpoint on a vertical line, coloured by who made it. */
function Rail({ first, last, kind }: { first: boolean; last: boolean; kind: Kind }) {
  return (
    <div className="relative flex w-3 shrink-0 justify-center">
      <span
        className={cn("absolute top-0 bottom-0 w-px bg-line", first && "top-3", last && "bottom-auto h-3")}
      />
      <span
        title={kind === "agent" ? "Agent turn" : kind === "restore" ? "Restore or undo" : "Saved changes"}
        className={cn(
          "relative mt-1.5 size-2.5 rounded-full ring-2 ring-surface-1",
          kind === "agent" ? "bg-accent-500" : kind === "restore" ? "bg-sky-400" : "bg-neutral-500",
        )}
      />
    </div>
  );
}

function DiffDialog({ checkpoint, onClose }: { checkpoint: Checkpoint | undefined; onClose: () => void }) {
  const { org, project } = useProject();
  const diff = useQuery({
    queryKey: keys.diff(org, project, checkpoint?.sha),
    queryFn: () => api.history.diff(org, project, checkpoint!.sha),
    enabled: !!checkpoint,
    staleTime: Number.POSITIVE_INFINITY,
  });
  return (
    <Dialog
      open={!!checkpoint}
      onClose={onClose}
      title={checkpoint?.message ?? ""}
      description={
        checkpoint && `${checkpoint.shortSha} · ${checkpoint.author} · ${relativeTime(checkpoint.createdAt)}`
      }
      className="w-[min(64rem,calc(100vw-2rem))]!"
      footer={<Button onClick={onClose}>Close</Button>}
    >
      {diff.isPending ? (
        <LoadingBlock label="Loading the changes" />
      ) : diff.isError ? (
        <ErrorState message={describeError(diff.error)} onRetry={() => diff.refetch()} />
      ) : (
        <DiffView diff={diff.data} />
      )}
    </Dialog>
  );
}
