import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import type { OidcProviderConfig } from "../../sso-providers.ts";
import type { Flow } from "./flow.ts";

/**
 * GitHub's sign-in: its OAuth app flow ("Authorizing OAuth apps" in GitHub's docs), not OpenID Connect —
 * no ID token, so who signed in is read from its REST API with the token (`GET /user`, and the primary
 * verified address from `GET /user/emails`). The flow still carries `state` and PKCE (S256).
 */

const TokenAnswer = z.union([
  z.object({ access_token: z.string().min(1).max(2000), token_type: z.string() }),
  z.object({ error: z.string(), error_description: z.string().optional() }),
]);
const GithubUser = z.object({
  id: z.number().int(),
  login: z.string(),
  name: z.string().nullable().optional(),
});
const GithubEmails = z.array(z.object({ email: z.string(), primary: z.boolean(), verified: z.boolean() }));

export interface GithubIdentity {
  sub: string;
  email: string | undefined;
  emailVerified: boolean;
  name: string | undefined;
}

export class GithubRefused extends Error {}

export function githubAuthorizeUrl(
  provider: OidcProviderConfig,
  redirectUri: string,
  flow: Flow,
  codeChallenge: string,
): string {
  const url = new URL(`${provider.issuer}/login/oauth/authorize`);
  url.search = new URLSearchParams({
    client_id: provider.clientId,
    redirect_uri: redirectUri,
    scope: "read:user user:email",
    state: flow.state,
    code_challenge: codeChallenge,
    code_challenge_method: "S256",
    allow_signup: "true",
  }).toString();
  return url.href;
}

export async function githubExchange(
  provider: OidcProviderConfig,
  fetch: typeof globalThis.fetch,
  query: Record<string, unknown>,
  flow: Flow,
  redirectUri: string,
): Promise<GithubIdentity> {
  const state = typeof query.state === "string" ? query.state : "";
  if (!sameText(state, flow.state))
    throw new GithubRefused("the state does not match this browser's sign-in");
  if (typeof query.code !== "string" || !query.code) throw new GithubRefused("no code");
  const res = await fetch(`${provider.issuer}/login/oauth/access_token`, {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      client_id: provider.clientId,
      client_secret: provider.clientSecret,
      code: query.code,
      redirect_uri: redirectUri,
      code_verifier: flow.verifier,
    }).toString(),
    signal: AbortSignal.timeout(10_000),
  });
  // GitHub answers a refused code with 200 and `{ error }` when asked for JSON.
  const token = TokenAnswer.safeParse(await readJson(res));
  if (!res.ok || !token.success || "error" in token.data)
    throw new GithubRefused(`the token request was refused (${res.status})`);
  const api = async (path: string) => {
    const answer = await fetch(`${provider.apiUrl}${path}`, {
      headers: {
        authorization: `Bearer ${(token.data as { access_token: string }).access_token}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
      },
      signal: AbortSignal.timeout(10_000),
    });
    if (!answer.ok) throw new GithubRefused(`GitHub's API answered ${answer.status} for ${path}`);
    return readJson(answer);
  };
  const user = GithubUser.parse(await api("/user"));
  const emails = GithubEmails.parse(await api("/user/emails"));
  const primary = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified);
  return {
    sub: String(user.id),
    email: primary?.email.toLowerCase(),
    emailVerified: primary !== undefined,
    name: user.name ?? user.login,
  };
}

async function readJson(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text.length > 1_000_000) throw new GithubRefused("an answer too large");
  try {
    return JSON.parse(text);
  } catch {
    throw new GithubRefused(`not JSON (${res.status})`);
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
