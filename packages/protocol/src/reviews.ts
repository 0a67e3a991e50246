import { z } from "zod";
import { Text } from "./common.ts";
import { Checkpoint, CheckpointDiff } from "./history.ts";
import { Job } from "./jobs.ts";
import { Task } from "./tasks.ts";

/** Reviewing an agent's work on a task: its branch against main, then merge or ask for changes. */

export const TaskReview = z
  .object({
    /** The last finished implement/fix job that pushed a branch; null when there is nothing to review. */
    job: Job.nullable(),
    branch: z.string().nullable(),
    summary: z.string().nullable(),
    diff: CheckpointDiff.nullable().describe("The branch against where it left main"),
  })
  .meta({ id: "TaskReview" });
export type TaskReview = z.infer<typeof TaskReview>;

export const ReviewDecisionBody = z
  .strictObject({
    decision: z.enum(["approve", "request_changes"]),
    comment: Text(20_000)
      .optional()
      .describe("Required when requesting changes: what the agent should change"),
  })
  .refine((b) => b.decision === "approve" || (b.comment?.trim().length ?? 0) > 0, {
    message: "say what should change",
    path: ["comment"],
  });
export type ReviewDecisionBody = z.infer<typeof ReviewDecisionBody>;

export const ReviewDecisionResult = z
  .object({
    task: Task,
    /** The merge commit on main (approve). */
    merged: Checkpoint.nullable(),
    /** The job started to make the requested changes. */
    jobId: z.string().nullable(),
  })
  .meta({ id: "ReviewDecisionResult" });
export type ReviewDecisionResult = z.infer<typeof ReviewDecisionResult>;
