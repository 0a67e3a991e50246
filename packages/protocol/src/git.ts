import { z } from "zod";

/**
 * Git over HTTP (smart protocol) at `/git/<org>/<project>.git`: `git clone`, `fetch` and `push` with a Kiln
 * token as the password (ADR 0013). The `.git` suffix is optional, as on other git hosts.
 */
export const GitRepoRef = z
  .string()
  .min(1)
  .max(68)
  .regex(/^[A-Za-z0-9-]{1,64}(?:\.git)?$/, "a project id or slug, optionally ending in .git")
  .describe("Project id or slug, optionally followed by .git");

export const GitService = z.enum(["git-upload-pack", "git-receive-pack"]);
export type GitService = z.infer<typeof GitService>;

export const GitInfoRefsQuery = z.strictObject({
  service: GitService.describe("git-upload-pack (clone, fetch) or git-receive-pack (push)"),
});

/** The repository path a git remote URL ends with: `<server>/git/<org>/<project>.git`. */
export function gitRepoPath(org: string, project: string): string {
  return `/git/${encodeURIComponent(org)}/${encodeURIComponent(project)}.git`;
}
