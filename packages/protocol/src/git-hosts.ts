import { z } from "zod";
import { Id, Name, Timestamp } from "./common.ts";

/**
 * An org's connected git host (ADR 0028): a GitHub, GitLab or Gitea account Kiln talks to with a token the
 * org saved (sealed at rest, never returned). Projects link to its repositories, create them, open pull
 * requests there and import from them; git itself still travels over https in the project's sandbox.
 */
export const GitHostKind = z.enum(["github", "gitlab", "gitea"]);
export type GitHostKind = z.infer<typeof GitHostKind>;

export const GIT_HOST_LABELS: Record<GitHostKind, string> = {
  github: "GitHub",
  gitlab: "GitLab",
  gitea: "Gitea",
};

export const GitHostId = Id.describe("Git host connection id");

const HostName = z
  .string()
  .trim()
  .min(1)
  .max(60)
  .regex(/^[^\p{Cc}]+$/u, "no control characters")
  .describe("What the org calls it, e.g. “GitHub (acme)”");
const HostToken = z
  .string()
  .min(8)
  .max(1024)
  .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
  .describe("A personal access token of the host; stored encrypted, never returned");
const HttpsUrl = z
  .string()
  .min(1)
  .max(500)
  .regex(/^https:\/\/[^\s/?#@]+(\/[^\s?#@]*)?$/, "an https URL without credentials, query or fragment");

export const GitHost = z
  .object({
    id: GitHostId,
    kind: GitHostKind,
    name: z.string(),
    apiUrl: z.string().describe("The host's REST API root"),
    gitUrl: z.string().describe("The https origin git clones from; a linked URL must be on it"),
    login: z.string().describe("The account the token belongs to (checked when connected)"),
    tokenHint: z.string().describe("Recognisable end of the token (`…abcd`); the token is never shown"),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .meta({ id: "GitHost" });
export type GitHost = z.infer<typeof GitHost>;

export const CreateGitHostBody = z
  .strictObject({
    kind: GitHostKind,
    name: HostName,
    token: HostToken,
    apiUrl: HttpsUrl.optional().describe(
      "REST API root: https://api.github.com and https://gitlab.com/api/v4 by default; required for Gitea (…/api/v1)",
    ),
    gitUrl: HttpsUrl.optional().describe(
      "The https origin of the host's clone URLs; derived from apiUrl when absent (https://github.com for GitHub)",
    ),
  })
  .refine((b) => b.kind !== "gitea" || b.apiUrl !== undefined, {
    message: "a Gitea host needs its apiUrl (https://gitea.example.com/api/v1)",
    path: ["apiUrl"],
  })
  .meta({ id: "CreateGitHostBody" });
export type CreateGitHostBody = z.infer<typeof CreateGitHostBody>;

/** A repository the connection's account can reach. */
export const GitHostRepository = z
  .object({
    fullName: z.string().describe("owner/name (GitLab: the namespace path)"),
    cloneUrl: z.string().describe("The https URL git clones"),
    webUrl: z.string(),
    defaultBranch: z.string().nullable(),
    private: z.boolean(),
  })
  .meta({ id: "GitHostRepository" });
export type GitHostRepository = z.infer<typeof GitHostRepository>;

export const RepositoryName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]*$/, "letters, digits, ., _ and -")
  .refine((n) => !n.endsWith(".git") && n !== "." && n !== "..", "not a repository name")
  .describe("The new repository's name");

export const CreateRepositoryBody = z.strictObject({
  host: GitHostId,
  name: RepositoryName,
  private: z.boolean().default(true),
});
export type CreateRepositoryBody = z.input<typeof CreateRepositoryBody>;

export const ImportFromHostBody = z.strictObject({
  repository: z.string().min(3).max(300).describe("owner/name, as the repository list gives it"),
  name: Name.optional().describe("The new project's name; the repository's name when absent"),
});
export type ImportFromHostBody = z.infer<typeof ImportFromHostBody>;

export const PullRequest = z
  .object({
    url: z.string().describe("The pull (merge) request's page on the host"),
    number: z.number().int(),
    head: z.string(),
    base: z.string(),
  })
  .meta({ id: "PullRequest" });
export type PullRequest = z.infer<typeof PullRequest>;

export const OpenPullRequestBody = z.strictObject({
  title: z.string().trim().min(1).max(200).optional().describe("The task's title when absent"),
});
export type OpenPullRequestBody = z.infer<typeof OpenPullRequestBody>;
