import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { type ClientMetadata } from "oidc-provider";

/**
 * A real OpenID Connect provider for tests (`oidc-provider`, a certified implementation): discovery, JWKS,
 * authorization code flow with PKCE, ID tokens, userinfo. Its sign-in page (`/interaction/<uid>`) is a
 * one-field form ("Username") whose account is whatever `accounts` says; consent is granted at once.
 * Like Google's, the ID token carries only `sub` when an access token is issued (`conformIdTokenClaims`):
 * Kiln reads the address from userinfo.
 */
export interface TestOidcAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  groups?: string[];
  /** Removed at the provider: it no longer finds the account (refresh tokens stop working). */
  removed?: boolean;
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Accounts by username; an unknown username signs in as a verified `<username>@example.com`. */
  accounts: Map<string, TestOidcAccount>;
  /** Registers another client (for codes issued to someone else). */
  addClient(id: string, secret: string, redirectUri: string): void;
  close(): Promise<void>;
}

export async function startOidcProvider(options: {
  redirectUris: string[];
  clientId?: string;
  clientSecret?: string;
}): Promise<TestOidcProvider> {
  const accounts = new Map<string, TestOidcAccount>();
  const clients: ClientMetadata[] = [
    {
      client_id: options.clientId ?? "kiln",
      client_secret: options.clientSecret ?? "kiln-test-secret",
      redirect_uris: options.redirectUris,
      grant_types: ["authorization_code", "refresh_token"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_post",
    },
  ];
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const make = () =>
    new Provider(issuer, {
      clients,
      findAccount: async (_ctx: unknown, sub: string) => {
        const account = accounts.get(sub);
        if (account?.removed) return undefined;
        const { removed: _removed, ...claims } = account ?? {};
        return {
          accountId: sub,
          claims: async () => ({
            sub,
            email: `${sub}@example.com`,
            email_verified: true,
            name: sub,
            ...claims,
          }),
        };
      },
      claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "groups"] },
      interactions: {
        url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
      },
      features: { devInteractions: { enabled: false } },
      cookies: { keys: ["kiln-test-oidc-cookie-key"] },
      // Short enough that a test can wait one out; long enough for a loaded machine.
      ttl: {
        AuthorizationCode: 60,
        Interaction: 600,
        Session: 3600,
        Grant: 3600,
        AccessToken: 600,
        IdToken: 600,
      },
    });
  let provider = make();
  server.on("request", (req, res) => {
    if (req.url?.startsWith("/interaction/")) {
      interact(provider, req, res).catch((err: unknown) => {
        res.statusCode = 500;
        res.end(String(err));
      });
      return;
    }
    provider.callback()(req, res);
  });
  return {
    issuer,
    clientId: clients[0]!.client_id,
    clientSecret: clients[0]!.client_secret as string,
    accounts,
    addClient(id, secret, redirectUri) {
      clients.push({ ...clients[0]!, client_id: id, client_secret: secret, redirect_uris: [redirectUri] });
      provider = make();
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

async function interact(provider: Provider, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === "login") {
    if (req.method !== "POST") {
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.end(`<!doctype html><title>Test provider: sign in</title><h1>Test provider</h1>
<form method="post"><label>Username <input name="login" autofocus></label>
<button type="submit">Sign in</button></form>`);
      return;
    }
    let body = "";
    for await (const chunk of req) body += chunk;
    const login = new URLSearchParams(body).get("login")?.trim();
    if (!login) {
      res.statusCode = 400;
      res.end("username required");
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: login } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const grant = new provider.Grant({
    accountId: details.session!.accountId,
    clientId: details.params.client_id as string,
  });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

/**
 * Drives the provider's side like a browser: follows its redirects with its own cookies, signs in as
 * `login` on its page, and stops at the first redirect to `until` (the relying party), answering that URL's
 * path and query (not yet visited).
 */
export async function throughProvider(authorizeUrl: string, login: string, until: string): Promise<string> {
  const jar = new Map<string, string>();
  let url = authorizeUrl;
  let form: string | undefined;
  for (let hop = 0; hop < 12; hop++) {
    if (url.startsWith(until)) return url.slice(until.length);
    const res = await fetch(url, {
      redirect: "manual",
      method: form ? "POST" : "GET",
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; "),
        ...(form ? { "content-type": "application/x-www-form-urlencoded" } : {}),
      },
      ...(form ? { body: form } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const at = pair!.indexOf("=");
      jar.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
    form = undefined;
    if (res.status === 200 && url.includes("/interaction/")) {
      await res.text();
      form = new URLSearchParams({ login }).toString();
      continue;
    }
    const location = res.headers.get("location");
    if (!location) throw new Error(`the provider answered ${res.status} at ${url}: ${await res.text()}`);
    url = new URL(location, url).href;
  }
  throw new Error("too many redirects at the provider");
}
