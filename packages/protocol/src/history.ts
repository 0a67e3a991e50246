import { z } from "zod";
import { Id, Timestamp } from "./common.ts";

/**
 * A project's history: every agent turn that changed files is a git commit (a checkpoint) in the project's
 * own repository. Restoring and undoing add new commits; history is never rewritten.
 */

/** Full or abbreviated (7+) hex object name; nothing a shell or git option parser could read as more. */
export const CommitSha = z
  .string()
  .regex(/^[0-9a-f]{7,64}$/, "a hex commit id (7 to 64 characters)")
  .describe("Commit id (hex, full or at least 7 characters)");

export const CheckpointStats = z
  .object({
    filesChanged: z.number().int(),
    insertions: z.number().int(),
    deletions: z.number().int(),
  })
  .meta({ id: "CheckpointStats" });
export type CheckpointStats = z.infer<typeof CheckpointStats>;

export const Checkpoint = z
  .object({
    sha: z.string(),
    shortSha: z.string(),
    parentSha: z.string().nullable().describe("First parent; null for the project's first commit"),
    message: z.string().describe("The commit's subject line"),
    author: z.string(),
    chatId: z.string().nullable().describe("The chat whose turn made it (trailer Kiln-Chat)"),
    messageId: z.string().nullable().describe("The assistant message of that turn (trailer Kiln-Message)"),
    restoredFrom: z
      .string()
      .nullable()
      .describe("For a restore or undo: the commit whose files it brought back"),
    createdAt: Timestamp,
    filesChanged: z.number().int().describe("Same as stats.filesChanged"),
    stats: CheckpointStats,
  })
  .meta({ id: "Checkpoint" });
export type Checkpoint = z.infer<typeof Checkpoint>;

export const HistoryQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).optional().describe("Default 50"),
  before: CommitSha.optional().describe("Continue after this commit (the previous page's nextBefore)"),
});
export type HistoryQuery = z.infer<typeof HistoryQuery>;

export const CheckpointPage = z
  .object({
    checkpoints: z
      .array(Checkpoint)
      .describe("Newest first, following first parents from the current commit"),
    nextBefore: z.string().nullable().describe("Pass as `before` for the next page; null at the end"),
  })
  .meta({ id: "CheckpointPage" });
export type CheckpointPage = z.infer<typeof CheckpointPage>;

export const DiffHunk = z
  .object({
    header: z.string().describe("The `@@ -a,b +c,d @@ …` line"),
    oldStart: z.number().int(),
    oldLines: z.number().int(),
    newStart: z.number().int(),
    newLines: z.number().int(),
    lines: z.array(z.string()).describe("Each starts with ' ', '+', '-' or '\\'"),
  })
  .meta({ id: "DiffHunk" });
export type DiffHunk = z.infer<typeof DiffHunk>;

export const DiffFileStatus = z.enum(["added", "modified", "deleted", "renamed", "copied", "type-changed"]);
export type DiffFileStatus = z.infer<typeof DiffFileStatus>;

export const DiffFile = z
  .object({
    path: z.string(),
    oldPath: z.string().nullable().describe("For renames and copies"),
    status: DiffFileStatus,
    binary: z.boolean(),
    additions: z.number().int().nullable().describe("null for binary files"),
    deletions: z.number().int().nullable(),
    hunks: z.array(DiffHunk),
    truncated: z.boolean().describe("Hunks were cut (or left out) to keep the answer small"),
  })
  .meta({ id: "DiffFile" });
export type DiffFile = z.infer<typeof DiffFile>;

export const CheckpointDiff = z
  .object({
    sha: z.string(),
    parentSha: z.string().nullable(),
    files: z.array(DiffFile),
    truncated: z.boolean().describe("Files or hunks were left out to keep the answer small"),
  })
  .meta({ id: "CheckpointDiff" });
export type CheckpointDiff = z.infer<typeof CheckpointDiff>;

export const RestoreBody = z.strictObject({
  force: z
    .boolean()
    .optional()
    .describe("With uncommitted changes: save them as a checkpoint first instead of refusing (409)"),
});
export type RestoreBody = z.infer<typeof RestoreBody>;

export const UndoBody = RestoreBody.extend({
  messageId: Id.describe("The assistant message whose turn to undo"),
});
export type UndoBody = z.infer<typeof UndoBody>;

export const RestoreResult = z
  .object({
    restoredTo: z.string().describe("The commit whose files the project now has"),
    checkpoint: Checkpoint.nullable().describe(
      "The new commit recording the restore; null if nothing changed",
    ),
    savedChanges: Checkpoint.nullable().describe("Uncommitted changes saved first (force)"),
    changedPaths: z.array(z.string()).describe("Files the restore wrote or deleted"),
  })
  .meta({ id: "RestoreResult" });
export type RestoreResult = z.infer<typeof RestoreResult>;
