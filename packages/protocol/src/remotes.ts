import { z } from "zod";
import { Id, Name, Timestamp } from "./common.ts";

/**
 * Git with hosts outside Kiln (ADR 0025): a project made from a git URL, and a project linked to a remote
 * repository it pushes to and pulls from. Transfers are https only; a token travels with the one request
 * that needs it and is never stored.
 */

/** A branch name as git allows it, a little narrower: no `..`, `//`, leading `-` or `/`, or `.lock` end. */
export const BRANCH_PATTERN =
  /^(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)(?!.*\/$)[A-Za-z0-9_][A-Za-z0-9._/-]{0,199}$/;

export const GitUrl = z
  .string()
  .min(1)
  .max(2000)
  .describe("The repository's https URL, e.g. https://git.example.com/team/app.git");

export const GitBranch = z.string().regex(BRANCH_PATTERN, "not a branch name").describe("A branch name");

export const GitAuth = z
  .strictObject({
    username: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^:\s]+$/, "no colon or white space")
      .optional()
      .describe("Sent with the token as HTTP Basic auth; `x-access-token` when absent"),
    token: z
      .string()
      .min(1)
      .max(4000)
      .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
      .describe("An access token for the git host: used for this transfer only, never stored"),
  })
  .describe("Credentials for one transfer");
export type GitAuth = z.infer<typeof GitAuth>;

export const ImportGitBody = z.strictObject({
  url: GitUrl,
  branch: GitBranch.optional().describe("The branch to import; the repository's default when absent"),
  name: Name.optional().describe("The new project's name; the repository's name when absent"),
  auth: GitAuth.optional(),
});
export type ImportGitBody = z.infer<typeof ImportGitBody>;

export const LinkRemoteBody = z.strictObject({
  url: GitUrl,
  host: Id.optional().describe(
    "A connected git host (ADR 0028) whose saved token every transfer of this link uses; the URL must be on its git origin",
  ),
  branch: GitBranch.optional().describe(
    "The remote branch main is synced with; the remote's default when absent",
  ),
  auth: GitAuth.optional(),
});
export type LinkRemoteBody = z.infer<typeof LinkRemoteBody>;

export const FetchRemoteBody = z.strictObject({ auth: GitAuth.optional() });
export type FetchRemoteBody = z.infer<typeof FetchRemoteBody>;

export const PushRemoteBody = z.strictObject({
  branch: GitBranch.optional().describe(
    "The project's branch to push: main (the default) goes to the linked branch, a task branch to its own name",
  ),
  auth: GitAuth.optional(),
});
export type PushRemoteBody = z.infer<typeof PushRemoteBody>;

export const PullRemoteBody = z.strictObject({
  onConflict: z
    .enum(["stop", "markers"])
    .default("stop")
    .describe(
      "stop: on a conflict change nothing and report it; markers: commit the merge with both sides' text between conflict markers, to be edited",
    ),
  auth: GitAuth.optional(),
});
export type PullRemoteBody = z.input<typeof PullRemoteBody>;

const Sha = z.string().regex(/^[0-9a-f]{40,64}$/);

export const RemoteConflict = z.object({
  remoteCommit: Sha,
  paths: z.array(z.string()).describe("Files both sides changed differently"),
  at: Timestamp,
});

export const RemoteStatus = z
  .object({
    url: z.string(),
    host: Id.nullable().describe(
      "The connected git host whose token the link uses (null: a token per action)",
    ),
    branch: z.string().describe("The remote branch main is synced with"),
    remoteCommit: Sha.nullable().describe("The remote branch's commit when it was last fetched"),
    lastPushedCommit: Sha.nullable(),
    lastSyncedAt: Timestamp.nullable(),
    ahead: z.number().int().nullable().describe("Commits on main the remote branch does not have"),
    behind: z.number().int().nullable().describe("Commits on the remote branch main does not have"),
    conflict: RemoteConflict.nullable().describe("The last pull's conflict, until a pull resolves it"),
  })
  .meta({ id: "RemoteStatus" });
export type RemoteStatus = z.infer<typeof RemoteStatus>;

export const RemoteState = z.object({ remote: RemoteStatus.nullable() });
export type RemoteState = z.infer<typeof RemoteState>;

export const PushResult = z.object({
  branch: z.string(),
  remoteBranch: z.string(),
  commit: Sha,
  outcome: z.enum(["pushed", "up-to-date"]),
  remote: RemoteStatus,
});
export type PushResult = z.infer<typeof PushResult>;

export const PullResult = z.object({
  outcome: z.enum(["up-to-date", "fast-forward", "merged", "conflict", "merged-with-conflicts"]),
  commit: Sha.nullable().describe("main's commit afterwards"),
  savedChanges: z.boolean().describe("Uncommitted files were saved as a checkpoint first"),
  conflicts: z
    .array(z.string())
    .describe("Files with conflicting changes (conflict: unchanged; merged-with-conflicts: with markers)"),
  changedPaths: z.array(z.string()),
  remote: RemoteStatus,
});
export type PullResult = z.infer<typeof PullResult>;
