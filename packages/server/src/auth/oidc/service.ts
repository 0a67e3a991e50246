import { randomUUID } from "node:crypto";
import type { SignInMethods } from "@kiln/protocol";
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import * as client from "openid-client";
import type { Database, Executor } from "../../db/client.ts";
import { pgErrorCode, UNIQUE_VIOLATION } from "../../db/errors.ts";
import { sessions, userIdentities, users } from "../../db/schema-shared.ts";
import { ConflictError, NotFoundError } from "../../errors/errors.ts";
import type { OrgService } from "../../orgs/service.ts";
import type { SecretBox } from "../../secrets/secret-box.ts";
import type { OidcProviderConfig } from "../../sso-providers.ts";
import type { OidcClients } from "./clients.ts";
import { FLOW_TTL_MS, type Flow } from "./flow.ts";
import { githubAuthorizeUrl, githubExchange } from "./github.ts";
import type { OrgSsoService } from "./org-sso.ts";

const sessionContext = (sessionId: string) => `session:${sessionId}:sso-refresh`;

/** Why a sign-in did not happen; the log-in page says it in words (`?sso_error=`). */
export type OidcFailure =
  | "expired"
  | "denied"
  | "rejected"
  | "unverified_email"
  | "signup_closed"
  | "identity_taken"
  | "account_deleted"
  | "unavailable";

export type CallbackOutcome =
  | { kind: "signed-in"; userId: string; next: string | null; provider: string; refreshToken: string | null }
  | { kind: "linked"; userId: string }
  | { kind: "failed"; failure: OidcFailure; linking: boolean };

/** Not an argon2 hash: an account made through a provider has no password until it sets one (reset). */
export const NO_PASSWORD = "!sso";

interface Claims {
  sub: string;
  email: string | undefined;
  emailVerified: boolean;
  name: string | undefined;
  /** The `groups` claim (Okta, Keycloak, Dex, Authentik…), for org single sign-on's role mapping. */
  groups: string[];
  refreshToken: string | null;
}

function groupsOf(...sources: Array<Record<string, unknown> | undefined>): string[] {
  for (const source of sources) {
    const g = source?.groups;
    if (Array.isArray(g)) return g.filter((x): x is string => typeof x === "string").slice(0, 200);
  }
  return [];
}

/**
 * Sign-in with OpenID Connect providers (ADR 0030): the authorization code flow with PKCE, `state` and
 * `nonce`, the ID token checked by `openid-client` (signature against the issuer's keys, issuer, audience,
 * expiry, nonce). An identity is (provider, subject). A new identity joins the account that owns the same
 * address only when the provider says the address is verified, and only a verified Kiln account owns an
 * address; otherwise a new, verified account is made (if sign-up is open).
 */
export class OidcService {
  readonly #clients: OidcClients;
  readonly #database: Database;
  readonly #orgs: OrgService;
  readonly #publicUrl: string;
  readonly #signupOpen: boolean;
  #signupAllowed: (tx: Executor, email: string, provider: string) => Promise<boolean> = async () => true;

  /**
   * Asked, in the sign-in's transaction, before a sign-in makes a new account (admin/: the instance's
   * sign-up policy).
   */
  useSignupPolicy(allowed: (tx: Executor, email: string, provider: string) => Promise<boolean>): void {
    this.#signupAllowed = allowed;
  }
  readonly #log: { warn(obj: object, msg: string): void };
  readonly #orgSso: OrgSsoService;
  readonly #secrets: SecretBox;

  constructor(deps: {
    clients: OidcClients;
    database: Database;
    orgs: OrgService;
    orgSso: OrgSsoService;
    secrets: SecretBox;
    publicUrl: string;
    signupOpen: boolean;
    log: { warn(obj: object, msg: string): void };
  }) {
    this.#clients = deps.clients;
    this.#database = deps.database;
    this.#orgs = deps.orgs;
    this.#publicUrl = deps.publicUrl;
    this.#signupOpen = deps.signupOpen;
    this.#log = deps.log;
    this.#orgSso = deps.orgSso;
    this.#secrets = deps.secrets;
  }

  provider(id: string): OidcProviderConfig {
    const provider = this.#clients.provider(id);
    if (!provider) throw new NotFoundError("sign_in_provider_not_found", `no sign-in provider "${id}" here`);
    return provider;
  }

  /** The provider's authorization URL, and the flow the browser keeps until it comes back. */
  async start(providerId: string, next: string | null, linkUserId: string | null) {
    const provider = this.provider(providerId);
    if (provider.kind === "github") {
      const flow = this.#newFlow(provider, next, linkUserId);
      const challenge = await client.calculatePKCECodeChallenge(flow.verifier);
      return { url: githubAuthorizeUrl(provider, this.#redirectUri(provider), flow, challenge), flow };
    }
    const config = await this.#clients.config(provider).catch((err: unknown) => {
      this.#log.warn({ err, provider: provider.id }, "sign-in provider unreachable");
      return undefined;
    });
    if (!config) return { url: undefined, flow: undefined };
    const flow = this.#newFlow(provider, next, linkUserId);
    // A refresh token lets each refresh of the Kiln session ask the provider again (de-provisioning);
    // OpenID Connect asks for explicit consent with it (Core §11).
    const offline = config.serverMetadata().scopes_supported?.includes("offline_access") === true;
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: this.#redirectUri(provider),
      scope: offline ? "openid email profile offline_access" : "openid email profile",
      ...(offline ? { prompt: "consent" } : {}),
      response_type: "code",
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: "S256",
    });
    return { url: url.href, flow };
  }

  async callback(
    providerId: string,
    query: Record<string, unknown>,
    flow: Flow | undefined,
  ): Promise<CallbackOutcome> {
    const provider = this.provider(providerId);
    const linking = flow?.linkUserId != null;
    const fail = (failure: OidcFailure): CallbackOutcome => ({ kind: "failed", failure, linking });
    // No flow from this browser (another browser's link, an old tab, a forged request): nothing to check
    // the answer against, so nothing is sent to the provider either.
    if (!flow || flow.provider !== provider.id) return fail("expired");
    if (typeof query.error === "string") return fail("denied");
    let claims: Claims;
    try {
      claims = await this.#exchange(provider, query, flow);
    } catch (err) {
      this.#log.warn({ err: describe(err), provider: provider.id }, "sign-in with a provider refused");
      return fail(err instanceof ProviderDown ? "unavailable" : "rejected");
    }
    try {
      return await this.#settle(provider, claims, flow);
    } catch (err) {
      if (pgErrorCode(err) === UNIQUE_VIOLATION) return fail("identity_taken");
      throw err;
    }
  }

  async methods(userId: string): Promise<SignInMethods> {
    const [user] = await this.#database.db
      .select({ passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.id, userId));
    const rows = await this.#database.db
      .select()
      .from(userIdentities)
      .where(eq(userIdentities.userId, userId));
    return {
      password: !!user && !user.passwordHash.startsWith("!"),
      identities: rows.map((r) => ({
        provider: r.provider,
        providerName: this.#clients.provider(r.provider)?.name ?? r.provider,
        email: r.email,
        createdAt: r.createdAt.toISOString(),
        lastUsedAt: r.lastUsedAt?.toISOString() ?? null,
      })),
    };
  }

  /** Never the last way in: a password, or another provider, must remain. */
  async unlink(userId: string, providerId: string): Promise<SignInMethods> {
    await this.#database.transaction(async (tx) => {
      const [user] = await tx.select().from(users).where(eq(users.id, userId)).for("update");
      const mine = await tx.select().from(userIdentities).where(eq(userIdentities.userId, userId));
      if (!mine.some((i) => i.provider === providerId))
        throw new NotFoundError("identity_not_found", "no identity of that provider is linked");
      const others = mine.filter((i) => i.provider !== providerId).length;
      if (others === 0 && (!user || user.passwordHash.startsWith("!"))) {
        throw new ConflictError(
          "last_sign_in_method",
          "this is the account's only way to sign in: set a password (reset it by email) or link another provider first",
        );
      }
      await tx
        .delete(userIdentities)
        .where(and(eq(userIdentities.userId, userId), eq(userIdentities.provider, providerId)));
    });
    return this.methods(userId);
  }

  #newFlow(provider: OidcProviderConfig, next: string | null, linkUserId: string | null): Flow {
    return {
      provider: provider.id,
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
      next,
      linkUserId,
      expiresAt: Date.now() + FLOW_TTL_MS,
    };
  }

  #redirectUri(provider: OidcProviderConfig): string {
    return `${this.#publicUrl}/api/auth/oidc/${provider.id}/callback`;
  }

  async #exchange(provider: OidcProviderConfig, query: Record<string, unknown>, flow: Flow): Promise<Claims> {
    if (provider.kind === "github") {
      const fetch = this.#clients.fetchFor(provider);
      const who = await githubExchange(provider, fetch, query, flow, this.#redirectUri(provider));
      return { ...who, groups: [], refreshToken: null };
    }
    const config = await this.#clients.config(provider).catch((err: unknown) => {
      throw new ProviderDown(err);
    });
    const current = new URL(this.#redirectUri(provider));
    for (const [k, v] of Object.entries(query)) if (typeof v === "string") current.searchParams.set(k, v);
    const tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
      idTokenExpected: true,
    });
    const id = tokens.claims();
    if (!id) throw new Error("no ID token");
    let email = typeof id.email === "string" ? id.email : undefined;
    let verified = id.email_verified === true;
    let name = typeof id.name === "string" ? id.name : undefined;
    let info: Record<string, unknown> | undefined;
    // Some providers keep the address out of the ID token: the userinfo endpoint has it, for the same subject.
    if (!email && tokens.access_token) {
      info = await client.fetchUserInfo(config, tokens.access_token, id.sub);
      email = typeof info.email === "string" ? info.email : undefined;
      verified = info.email_verified === true;
      name ??= typeof info.name === "string" ? info.name : undefined;
    }
    return {
      sub: id.sub,
      email: email?.toLowerCase(),
      emailVerified: verified,
      name,
      groups: groupsOf(id, info),
      refreshToken: tokens.refresh_token ?? null,
    };
  }

  async #settle(provider: OidcProviderConfig, claims: Claims, flow: Flow): Promise<CallbackOutcome> {
    const linking = flow.linkUserId != null;
    const fail = (failure: OidcFailure): CallbackOutcome => ({ kind: "failed", failure, linking });
    return this.#database.transaction(async (tx) => {
      const [known] = await tx
        .select()
        .from(userIdentities)
        .where(and(eq(userIdentities.provider, provider.id), eq(userIdentities.subject, claims.sub)))
        .for("update");
      if (flow.linkUserId) {
        if (known && known.userId !== flow.linkUserId) return fail("identity_taken");
        if (!known) await link(tx, provider.id, claims, flow.linkUserId);
        return { kind: "linked", userId: flow.linkUserId };
      }
      if (known) {
        const [user] = await tx.select().from(users).where(eq(users.id, known.userId));
        if (!user || user.deletedAt) return fail("account_deleted");
        await tx
          .update(userIdentities)
          .set({ lastUsedAt: new Date(), email: claims.email ?? known.email })
          .where(and(eq(userIdentities.provider, provider.id), eq(userIdentities.subject, claims.sub)));
        return this.#signedIn(tx, provider, claims, user.id, flow);
      }
      if (!claims.email || !claims.emailVerified) return fail("unverified_email");
      const [owner] = await tx
        .select({ id: users.id })
        .from(users)
        .where(
          and(
            eq(sql`lower(${users.email})`, claims.email),
            isNotNull(users.emailVerifiedAt),
            isNull(users.deletedAt),
          ),
        );
      if (owner) {
        await link(tx, provider.id, claims, owner.id);
        return this.#signedIn(tx, provider, claims, owner.id, flow);
      }
      if (!this.#signupOpen || !(await this.#signupAllowed(tx, claims.email, provider.id))) {
        return fail("signup_closed");
      }
      const name = claims.name?.trim().slice(0, 100) || claims.email.split("@")[0] || claims.email;
      const [user] = await tx
        .insert(users)
        .values({
          id: randomUUID(),
          email: claims.email,
          name,
          passwordHash: NO_PASSWORD,
          emailVerifiedAt: new Date(),
        })
        .returning();
      await this.#orgs.createPersonalInTx(tx, user!.id, claims.email, name);
      await link(tx, provider.id, claims, user!.id);
      return this.#signedIn(tx, provider, claims, user!.id, flow);
    });
  }

  /** Org single sign-on's just-in-time membership, in the sign-in's transaction. */
  async #signedIn(
    tx: Executor,
    provider: OidcProviderConfig,
    claims: Claims,
    userId: string,
    flow: Flow,
  ): Promise<CallbackOutcome> {
    if (claims.email && claims.emailVerified)
      await this.#orgSso.provision(tx, userId, provider.id, claims.email, claims.groups);
    return {
      kind: "signed-in",
      userId,
      next: flow.next,
      provider: provider.id,
      refreshToken: claims.refreshToken,
    };
  }

  /** Marks a new session as begun through `provider`, keeping its refresh token sealed to the session. */
  async attachSession(sessionId: string, provider: string, refreshToken: string | null): Promise<void> {
    await this.#database.db
      .update(sessions)
      .set({
        ssoProvider: provider,
        ssoRefreshSealed: refreshToken
          ? this.#secrets.encrypt(refreshToken, sessionContext(sessionId))
          : null,
      })
      .where(eq(sessions.id, sessionId));
  }

  /**
   * At each refresh of a session begun through a provider: asks the provider again with its refresh token.
   * A refusal (the person was removed or disabled there) ends the session and takes back what org single
   * sign-on gave; a provider that cannot be reached is not held against the person (answers true).
   */
  async recheck(session: {
    id: string;
    userId: string;
    ssoProvider: string | null;
    ssoRefreshSealed: string | null;
  }): Promise<boolean> {
    if (!session.ssoProvider || !session.ssoRefreshSealed) return true;
    const provider = this.#clients.provider(session.ssoProvider);
    if (!provider) return false;
    let config: client.Configuration;
    try {
      config = await this.#clients.config(provider);
    } catch {
      return true;
    }
    try {
      const refresh = this.#secrets.decrypt(session.ssoRefreshSealed, sessionContext(session.id));
      const tokens = await client.refreshTokenGrant(config, refresh);
      const claims = tokens.claims();
      // Groups may live in userinfo only (as the address does with some providers).
      const info = tokens.access_token
        ? await client.fetchUserInfo(config, tokens.access_token, claims?.sub ?? client.skipSubjectCheck)
        : undefined;
      await this.#database.transaction(async (tx) => {
        if (tokens.refresh_token && tokens.refresh_token !== refresh) {
          await tx
            .update(sessions)
            .set({
              ssoRefreshSealed: this.#secrets.encrypt(tokens.refresh_token, sessionContext(session.id)),
            })
            .where(eq(sessions.id, session.id));
        }
        const [user] = await tx.select().from(users).where(eq(users.id, session.userId));
        if (user?.emailVerifiedAt)
          await this.#orgSso.provision(tx, user.id, provider.id, user.email, groupsOf(claims, info));
      });
      return true;
    } catch (err) {
      if (!(err instanceof client.ResponseBodyError)) {
        this.#log.warn(
          { err: describe(err), provider: provider.id },
          "could not ask the sign-in provider again",
        );
        return true;
      }
      await this.#orgSso.deprovision(session.userId, provider.id);
      return false;
    }
  }
}

async function link(tx: Executor, provider: string, claims: Claims, userId: string): Promise<void> {
  await tx.insert(userIdentities).values({
    provider,
    subject: claims.sub,
    userId,
    email: claims.email ?? null,
    lastUsedAt: new Date(),
  });
}

class ProviderDown extends Error {
  constructor(cause: unknown) {
    super("the sign-in provider could not be reached", { cause });
  }
}

function describe(err: unknown): object {
  if (err instanceof Error)
    return { name: err.name, message: err.message, code: (err as { code?: string }).code };
  return { message: String(err) };
}
