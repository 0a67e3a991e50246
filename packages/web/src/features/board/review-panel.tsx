import { FINAL_JOB_STATES, type Task } from "@kiln/protocol";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import Markdown from "react-markdown";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { useProject } from "../../state/project-context.tsx";
import { Button } from "../../ui/button.tsx";
import { CheckIcon } from "../../ui/icons.tsx";
import { Spinner } from "../../ui/spinner.tsx";
import { toast } from "../../ui/toast.tsx";
import { DiffView } from "../history/diff-view.tsx";
import { useDecideReview } from "./mutations.ts";
import { PullRequestButton } from "./pull-request-button.tsx";
import { reviewQuery, taskJobsQuery } from "./queries.ts";
import { describeReviewError } from "./review-errors.ts";

/**
 * The review step in a task's drawer: the agent's summary, its branch against main file by file, and the
 * reviewer's decision — approve (merge into main, the task moves on) or request changes (a fix job with
 * the reviewer's words, whose log the drawer follows).
 */
export function ReviewPanel({ task }: { task: Task }) {
  const { org, project, canWrite } = useProject();
  const qc = useQueryClient();
  const decide = useDecideReview(task.id);
  const review = useQuery(reviewQuery(org, project, task.id));
  const jobs = useQuery(taskJobsQuery(org, task.id));
  const [asking, setAsking] = useState(false);
  const [comment, setComment] = useState("");
  const [commentError, setCommentError] = useState<string>();
  const [error, setError] = useState<string>();

  // The branch moves when a fix job finishes: the diff follows the newest finished piece of work.
  const work = jobs.data?.filter((j) => j.kind !== "review");
  const lastDone = work?.find((j) => j.state === "completed")?.id;
  const working = work?.find((j) => !FINAL_JOB_STATES.includes(j.state));
  const taskId = task.id;
  useEffect(() => {
    if (lastDone) void qc.invalidateQueries({ queryKey: keys.review(org, project, taskId) });
  }, [lastDone, qc, org, project, taskId]);

  const approve = () => {
    setError(undefined);
    decide.mutate(
      { decision: "approve" },
      {
        onSuccess: (result) =>
          toast.success(
            result.merged
              ? `Merged #${task.number} into main (${result.merged.shortSha})`
              : `#${task.number} approved; main already had it`,
          ),
        onError: (err) => setError(describeReviewError(err)),
      },
    );
  };

  const requestChanges = (e: FormEvent) => {
    e.preventDefault();
    if (!comment.trim()) {
      setCommentError("Say what the agent should change.");
      return;
    }
    setError(undefined);
    setCommentError(undefined);
    decide.mutate(
      { decision: "request_changes", comment },
      {
        onSuccess: () => {
          toast.success("Changes requested: the agent is on it");
          setComment("");
          setAsking(false);
        },
        onError: (err) => setError(describeReviewError(err)),
      },
    );
  };
  const busy = decide.isPending ? decide.variables.decision : null;

  const data = review.data;
  const files = data?.diff?.files ?? [];
  const additions = files.reduce((n, f) => n + (f.additions ?? 0), 0);
  const deletions = files.reduce((n, f) => n + (f.deletions ?? 0), 0);

  return (
    <section
      // Not "Review": that is the board column's name too.
      aria-label="Agent's changes"
      className="flex flex-col gap-2 rounded-lg border border-purple-500/30 bg-purple-500/5 p-3"
    >
      <header className="flex flex-wrap items-center gap-2">
        <h3 className="text-xs font-medium tracking-wide text-purple-200 uppercase">Review</h3>
        {data?.branch && (
          <code className="min-w-0 truncate font-mono text-[11px] text-neutral-400">{data.branch}</code>
        )}
        {files.length > 0 && (
          <span className="ml-auto shrink-0 font-mono text-[11px]" data-testid="review-stats">
            {files.length} {files.length === 1 ? "file" : "files"}{" "}
            <span className="text-emerald-400">+{additions}</span>{" "}
            <span className="text-red-400">−{deletions}</span>
          </span>
        )}
      </header>
      {review.isPending && (
        <p className="flex items-center gap-2 text-xs text-neutral-500">
          <Spinner /> Loading the agent's changes…
        </p>
      )}
      {review.isError && <p className="text-xs text-red-300">{describeError(review.error)}</p>}
      {data && !data.branch && (
        <p className="text-xs text-neutral-400">
          No agent work to review on this task yet: assign it to the agent and move it to a started column.
        </p>
      )}
      {data?.branch && (
        <>
          {data.summary && (
            <div data-testid="review-summary" className="prose-kiln text-[13px] text-neutral-200">
              <Markdown>{data.summary}</Markdown>
            </div>
          )}
          {data.diff && files.length > 0 ? (
            <DiffView diff={data.diff} />
          ) : (
            <p className="text-xs text-neutral-500">The branch changes no files against main.</p>
          )}
        </>
      )}
      {working && (
        <p role="status" className="flex items-center gap-2 text-xs text-blue-300">
          <Spinner /> The agent is still working on this task ({working.kind} job); review its result when it
          is done.
        </p>
      )}
      {error && (
        <p role="alert" className="text-xs text-red-400">
          {error}
        </p>
      )}
      {canWrite &&
        data?.branch &&
        (asking ? (
          <form onSubmit={requestChanges} className="flex flex-col gap-2">
            <label htmlFor={`changes-${task.id}`} className="text-xs font-medium text-neutral-300">
              What should the agent change?
            </label>
            <textarea
              id={`changes-${task.id}`}
              value={comment}
              onChange={(e) => {
                setComment(e.target.value);
                setCommentError(undefined);
              }}
              aria-invalid={!!commentError}
              rows={3}
              // biome-ignore lint/a11y/noAutofocus: the reviewer opened this form to type in it
              autoFocus
              placeholder="Markdown; the agent gets it as its brief"
              className="w-full rounded-md border border-line bg-surface-0 px-2.5 py-2 text-sm text-neutral-100 focus:border-accent-500 focus:outline-none"
            />
            {commentError && (
              <p role="alert" className="text-xs text-red-400">
                {commentError}
              </p>
            )}
            <div className="flex flex-wrap justify-end gap-2">
              <Button variant="ghost" onClick={() => setAsking(false)}>
                Cancel
              </Button>
              <Button type="submit" variant="primary" loading={busy === "request_changes"}>
                Send to the agent
              </Button>
            </div>
          </form>
        ) : (
          <div className="flex flex-wrap justify-end gap-2">
            <PullRequestButton taskId={task.id} disabled={!!working || busy !== null} />
            <Button disabled={!!working || busy !== null} onClick={() => setAsking(true)}>
              Request changes
            </Button>
            <Button
              variant="primary"
              icon={<CheckIcon className="size-3" />}
              loading={busy === "approve"}
              disabled={!!working || busy !== null}
              onClick={() => void approve()}
            >
              Approve and merge
            </Button>
          </div>
        ))}
    </section>
  );
}
