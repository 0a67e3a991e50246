import { type ErrorCodeWithStatus, hasErrorStatus } from "@kiln/protocol";
import type { ApiTokenService } from "../auth/api-tokens.ts";
import type { AuthService } from "../auth/service.ts";
import { API_TOKEN_PREFIX } from "../auth/tokens.ts";
import { KilnError } from "../errors/errors.ts";
import type { GitCaller, GitTokenVerifier } from "./access.ts";

/** Without this challenge git does not ask its credential helper (or the user) for a password. */
export const GIT_CHALLENGE = { "www-authenticate": 'Basic realm="Kiln"' } as const;

const MAX_TOKEN_LENGTH = 4096;

export function challenge(code: ErrorCodeWithStatus<401>, message: string): KilnError {
  return new KilnError(code, message, { headers: { ...GIT_CHALLENGE } });
}

/**
 * The token in an Authorization header: HTTP Basic as git's credential helpers send it (any username, the
 * token as the password; a token given as the username alone is accepted too), or Bearer.
 */
export function tokenFromHeader(header: string | undefined): string {
  if (header === undefined || header.trim() === "") {
    throw challenge(
      "unauthenticated",
      "authentication required: a Kiln API token (kiln_pat_…) as the password",
    );
  }
  const basic = /^Basic\s+([A-Za-z0-9+/=]{1,8192})\s*$/i.exec(header);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const token = colon === -1 ? decoded : decoded.slice(colon + 1) || decoded.slice(0, colon);
    if (!token)
      throw challenge("unauthenticated", "authentication required: a Kiln API token as the password");
    return token;
  }
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (bearer) return bearer[1]!;
  throw challenge(
    "token_invalid",
    "Authorization must be Basic (any username, a Kiln API token as the password) or Bearer",
  );
}

/**
 * Who the credentials belong to: a personal API token's user, a job token's project, or a session's user
 * (a short-lived access token, as the studio holds). Cookies are never read, so no page a browser opens
 * can use a signed-in user's session here.
 */
export async function authenticateGit(
  header: string | undefined,
  deps: { auth: AuthService; apiTokens: ApiTokenService; jobTokens: GitTokenVerifier | undefined },
): Promise<GitCaller> {
  const token = tokenFromHeader(header);
  if (token.length > MAX_TOKEN_LENGTH) throw challenge("token_invalid", "the token is not valid");
  try {
    if (token.startsWith(API_TOKEN_PREFIX)) {
      return { kind: "user", principal: await deps.apiTokens.authenticate(token) };
    }
    const job = await deps.jobTokens?.verify(token);
    if (job) return { kind: "job", orgId: job.orgId, projectId: job.projectId, branch: job.branch };
    return { kind: "user", principal: await deps.auth.authenticateAccessToken(token, "bearer") };
  } catch (error) {
    if (error instanceof KilnError && error.status === 401 && hasErrorStatus(error.code, 401)) {
      throw challenge(error.code, error.message);
    }
    throw error;
  }
}
