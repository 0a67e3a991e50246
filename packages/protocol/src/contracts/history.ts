import {
  CheckpointDiff,
  CheckpointPage,
  CommitSha,
  HistoryQuery,
  RestoreBody,
  RestoreResult,
  UndoBody,
} from "../history.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["history"];
const HISTORY = "/api/orgs/:org/projects/:project/history";
const CommitParams = ProjectParams.extend({ sha: CommitSha });
/** Every history route runs git in the project's sandbox. */
const GIT_ERRORS = ["project_not_found", "history_unavailable", "history_busy", "unavailable"] as const;

/** A project's checkpoints (git commits): viewers read them, developers restore. */
export const history = {
  list: defineRoute({
    method: "GET",
    path: HISTORY,
    summary: "The project's checkpoints, newest first",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    query: HistoryQuery,
    response: CheckpointPage,
    errors: [...GIT_ERRORS, "checkpoint_not_found"],
  }),
  diff: defineRoute({
    method: "GET",
    path: `${HISTORY}/:sha`,
    summary: "What one checkpoint changed (unified diff hunks per file, size-limited)",
    tags,
    permission: "projects.read",
    params: CommitParams,
    response: CheckpointDiff,
    errors: [...GIT_ERRORS, "checkpoint_not_found"],
  }),
  restore: defineRoute({
    method: "POST",
    path: `${HISTORY}/:sha/restore`,
    summary: "Bring the project's files back to a checkpoint, recorded as a new commit",
    tags,
    permission: "projects.write",
    params: CommitParams,
    body: RestoreBody,
    response: RestoreResult,
    errors: [...GIT_ERRORS, "checkpoint_not_found", "uncommitted_changes"],
  }),
  // Not under /history: a static segment there would shadow GET /history/:sha (GET /history/undo → 400).
  undo: defineRoute({
    method: "POST",
    path: "/api/orgs/:org/projects/:project/undo",
    summary: "Undo an agent turn: restore the files to just before its checkpoint",
    tags,
    permission: "projects.write",
    params: ProjectParams,
    body: UndoBody,
    response: RestoreResult,
    errors: [...GIT_ERRORS, "checkpoint_not_found", "conflict", "uncommitted_changes"],
  }),
};
