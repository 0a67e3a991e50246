import { describeError, isApiError } from "../../api/errors.ts";

/** A failed decision in words a reviewer can act on. */
export function describeReviewError(err: unknown): string {
  if (isApiError(err, "review_not_ready"))
    return "There is no finished agent work on this task to review yet.";
  if (isApiError(err, "task_busy"))
    return "The agent is still working on this task; decide once its job is done.";
  if (isApiError(err, "merge_conflict"))
    return `The branch no longer merges cleanly into main (${err.message}). Request changes so the agent can bring it up to date.`;
  if (isApiError(err, "branch_not_found"))
    return "The agent's branch is gone from the project. Request changes to have the work done again.";
  return describeError(err);
}
