import { ValidationError } from "./errors/errors.ts";

/** A single sign-on provider the operator configured. */
export interface OidcProviderConfig {
  /** In URLs and the identities table: `google`, or the operator's name for it (`okta`). */
  id: string;
  /** On the log-in button: "Continue with <name>". */
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  /**
   * `github`: GitHub's own OAuth (not OpenID Connect): `issuer` is its web root (github.com, or a GitHub
   * Enterprise Server), `apiUrl` its REST API.
   */
  kind?: "oidc" | "github";
  apiUrl?: string;
}

const ID = /^[a-z][a-z0-9-]{0,31}$/;

/**
 * Reads the providers from the environment:
 * - `KILN_OIDC_PROVIDERS=okta,keycloak` and for each `KILN_OIDC_<ID>_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET`,
 *   optionally `_NAME` (`<ID>` upper-cased, `-` as `_`) — any OpenID Connect provider (Okta, Entra ID,
 *   Keycloak, Authentik, Dex…);
 * - `KILN_GOOGLE_CLIENT_ID` + `KILN_GOOGLE_CLIENT_SECRET`: Google, whose issuer is fixed;
 * - `KILN_GITHUB_CLIENT_ID` + `KILN_GITHUB_CLIENT_SECRET` (+ `KILN_GITHUB_URL` / `KILN_GITHUB_API_URL` for
 *   GitHub Enterprise Server): GitHub's OAuth app flow.
 * A half-configured provider is refused at start-up, naming what is missing.
 */
export function oidcProvidersFrom(env: NodeJS.ProcessEnv): OidcProviderConfig[] {
  const out: OidcProviderConfig[] = [];
  const missing: string[] = [];
  if (env.KILN_GOOGLE_CLIENT_ID || env.KILN_GOOGLE_CLIENT_SECRET) {
    if (!env.KILN_GOOGLE_CLIENT_ID) missing.push("KILN_GOOGLE_CLIENT_ID");
    if (!env.KILN_GOOGLE_CLIENT_SECRET) missing.push("KILN_GOOGLE_CLIENT_SECRET");
    out.push({
      id: "google",
      name: "Google",
      issuer: "https://accounts.google.com",
      clientId: env.KILN_GOOGLE_CLIENT_ID ?? "",
      clientSecret: env.KILN_GOOGLE_CLIENT_SECRET ?? "",
    });
  }
  if (env.KILN_GITHUB_CLIENT_ID || env.KILN_GITHUB_CLIENT_SECRET) {
    if (!env.KILN_GITHUB_CLIENT_ID) missing.push("KILN_GITHUB_CLIENT_ID");
    if (!env.KILN_GITHUB_CLIENT_SECRET) missing.push("KILN_GITHUB_CLIENT_SECRET");
    const web = (env.KILN_GITHUB_URL ?? "https://github.com").replace(/\/+$/, "");
    const api = (
      env.KILN_GITHUB_API_URL ?? (web === "https://github.com" ? "https://api.github.com" : `${web}/api/v3`)
    ).replace(/\/+$/, "");
    for (const [name, value] of [
      ["KILN_GITHUB_URL", web],
      ["KILN_GITHUB_API_URL", api],
    ] as const)
      if (!URL.canParse(value)) throw new ValidationError(`invalid configuration: ${name}: not a URL`);
    out.push({
      id: "github",
      name: "GitHub",
      kind: "github",
      issuer: web,
      apiUrl: api,
      clientId: env.KILN_GITHUB_CLIENT_ID ?? "",
      clientSecret: env.KILN_GITHUB_CLIENT_SECRET ?? "",
    });
  }
  const ids = (env.KILN_OIDC_PROVIDERS ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const id of ids) {
    if (!ID.test(id)) {
      throw new ValidationError(`invalid configuration: KILN_OIDC_PROVIDERS: "${id}" is not a-z, 0-9 and -`);
    }
    if (out.some((p) => p.id === id)) {
      throw new ValidationError(`invalid configuration: KILN_OIDC_PROVIDERS: "${id}" is named twice`);
    }
    const key = (name: string) => `KILN_OIDC_${id.toUpperCase().replaceAll("-", "_")}_${name}`;
    const value = (name: string) => {
      const v = env[key(name)]?.trim();
      if (!v) missing.push(key(name));
      return v ?? "";
    };
    const issuer = value("ISSUER");
    if (issuer && !URL.canParse(issuer)) {
      throw new ValidationError(`invalid configuration: ${key("ISSUER")}: not a URL`);
    }
    out.push({
      id,
      name: env[key("NAME")]?.trim() || id,
      issuer,
      clientId: value("CLIENT_ID"),
      clientSecret: value("CLIENT_SECRET"),
    });
  }
  if (missing.length > 0) {
    throw new ValidationError(`invalid configuration: single sign-on needs ${missing.join(", ")}`);
  }
  return out;
}
