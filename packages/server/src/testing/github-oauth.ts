import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A strict fake of GitHub's OAuth app flow and the two REST endpoints sign-in reads, after GitHub's docs
 * ("Authorizing OAuth apps", "Get the authenticated user", "List email addresses for the authenticated
 * user"): `/login/oauth/authorize` (an "Authorize" page; a known client, its registered redirect URI,
 * `state`, an S256 `code_challenge`), `/login/oauth/access_token` (the client's secret, a code used once
 * within 10 minutes, the same redirect URI, the PKCE verifier; refusals are 200 `{ error }` as GitHub
 * answers when asked for JSON), `/user` and `/user/emails` (a bearer token, else 401 "Bad credentials").
 * One process serves both the web and the API root (`url` and `apiUrl`).
 */
export interface FakeGithubUser {
  id: number;
  login: string;
  name: string | null;
  emails: Array<{ email: string; primary: boolean; verified: boolean }>;
}

export interface FakeGithub {
  url: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** By login; the authorize page signs in whoever `login` names. */
  users: Map<string, FakeGithubUser>;
  /** Every token request's body, as the fake received it. */
  tokenRequests: URLSearchParams[];
  close(): Promise<void>;
}

export async function startFakeGithub(redirectUri: string): Promise<FakeGithub> {
  const clientId = "Iv1.kilntestclient";
  const clientSecret = `secret-${randomBytes(8).toString("hex")}`;
  const users = new Map<string, FakeGithubUser>();
  const codes = new Map<string, { login: string; challenge: string; redirect: string; at: number }>();
  const tokens = new Map<string, string>();
  const tokenRequests: URLSearchParams[] = [];
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
  };
  async function body(req: IncomingMessage): Promise<string> {
    let text = "";
    for await (const chunk of req) {
      text += chunk;
      if (text.length > 100_000) throw new Error("too large");
    }
    return text;
  }
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    if (url.pathname === "/login/oauth/authorize") {
      const q = url.searchParams;
      if (q.get("client_id") !== clientId) return void res.writeHead(404).end("unknown client");
      if (q.get("redirect_uri") !== redirectUri) return void res.writeHead(400).end("redirect_uri mismatch");
      if (!q.get("state") || q.get("code_challenge_method") !== "S256" || !q.get("code_challenge"))
        return void res.writeHead(400).end("state and an S256 code_challenge are required");
      if (req.method === "GET") {
        res.setHeader("content-type", "text/html; charset=utf-8");
        return void res.end(`<!doctype html><title>Authorize application</title><h1>Authorize Kiln</h1>
<form method="post"><label>GitHub login <input name="login" autofocus></label>
<button type="submit">Authorize</button></form>`);
      }
      const login = new URLSearchParams(await body(req)).get("login") ?? "";
      if (!users.has(login)) return void res.writeHead(400).end("no such GitHub user");
      const code = randomBytes(10).toString("hex");
      codes.set(code, { login, challenge: q.get("code_challenge")!, redirect: redirectUri, at: Date.now() });
      const back = new URL(redirectUri);
      back.searchParams.set("code", code);
      back.searchParams.set("state", q.get("state")!);
      return void res.writeHead(302, { location: back.href }).end();
    }
    if (url.pathname === "/login/oauth/access_token" && req.method === "POST") {
      if (!(req.headers.accept ?? "").includes("application/json"))
        return void res
          .writeHead(200, { "content-type": "application/x-www-form-urlencoded" })
          .end("error=accept_json_please");
      const form = new URLSearchParams(await body(req));
      tokenRequests.push(form);
      if (form.get("client_id") !== clientId || form.get("client_secret") !== clientSecret)
        return json(res, 200, { error: "incorrect_client_credentials" });
      const code = codes.get(form.get("code") ?? "");
      codes.delete(form.get("code") ?? "");
      if (!code || Date.now() - code.at > 600_000) return json(res, 200, { error: "bad_verification_code" });
      if (form.get("redirect_uri") !== code.redirect)
        return json(res, 200, { error: "redirect_uri_mismatch" });
      const verifier = form.get("code_verifier") ?? "";
      if (createHash("sha256").update(verifier).digest("base64url") !== code.challenge)
        return json(res, 200, {
          error: "bad_verification_code",
          error_description: "code_verifier mismatch",
        });
      const token = `gho_${randomBytes(16).toString("hex")}`;
      tokens.set(token, code.login);
      return json(res, 200, { access_token: token, token_type: "bearer", scope: "read:user,user:email" });
    }
    if (url.pathname === "/user" || url.pathname === "/user/emails") {
      const auth = req.headers.authorization ?? "";
      const login = tokens.get(auth.replace(/^(Bearer|token) /, ""));
      const user = login ? users.get(login) : undefined;
      if (!user) return json(res, 401, { message: "Bad credentials" });
      if (url.pathname === "/user")
        return json(res, 200, { id: user.id, login: user.login, name: user.name });
      return json(
        res,
        200,
        user.emails.map((e) => ({ ...e, visibility: e.primary ? "private" : null })),
      );
    }
    res.writeHead(404).end();
  }
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    apiUrl: url,
    clientId,
    clientSecret,
    users,
    tokenRequests,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
