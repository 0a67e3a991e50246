import { CSRF_HEADER, routes, type Session } from "@kiln/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import { type ClientMeta, principalOf } from "../http/principal.ts";
import type { OrgRouter } from "../orgs/router.ts";
import type { AccountService } from "./account.ts";
import type { AccountDeletionService } from "./account-deletion.ts";
import type { ApiTokenService } from "./api-tokens.ts";
import { clearSessionCookies, sessionCookieNames, setSessionCookies } from "./cookies.ts";
import type { EmailVerificationService } from "./email-verification.ts";
import type { PasswordResetService } from "./password-reset.ts";
import type { AuthService, IssuedSession } from "./service.ts";

function meta(request: FastifyRequest): ClientMeta {
  return { ip: request.ip, userAgent: request.headers["user-agent"] };
}

function csrfOf(request: FastifyRequest, cookieName: string) {
  const header = request.headers[CSRF_HEADER];
  return { cookie: request.cookies[cookieName], header: typeof header === "string" ? header : undefined };
}

export function authRoutes(
  router: OrgRouter,
  deps: {
    auth: AuthService;
    account: AccountService;
    apiTokens: ApiTokenService;
    verification: EmailVerificationService;
    passwordReset: PasswordResetService;
    accountDeletion: AccountDeletionService;
    secureCookies: boolean;
  },
): void {
  const { auth, account, apiTokens, verification, passwordReset, accountDeletion, secureCookies } = deps;
  const names = sessionCookieNames(secureCookies);
  const c = routes.auth;

  /** Sets the session's cookies and answers with its tokens. */
  const sendSession = (reply: FastifyReply, session: IssuedSession): Session => {
    setSessionCookies(reply, session, secureCookies);
    return {
      user: session.user,
      accessToken: session.accessToken,
      accessTokenExpiresAt: session.accessTokenExpiresAt.toISOString(),
      csrfToken: session.csrfToken,
    };
  };

  router.handle(c.signup, async (request, reply) =>
    sendSession(reply, await auth.signup(request.body, meta(request))),
  );
  router.handle(c.login, async (request, reply) =>
    sendSession(reply, await auth.login(request.body, meta(request))),
  );
  router.handle(c.requestPasswordReset, async (request) =>
    passwordReset.request(request.body.email, request.ip),
  );
  router.handle(c.resetPassword, async (request, reply) => {
    const userId = await passwordReset.reset(request.body.token, request.body.password, request.ip);
    return sendSession(reply, await auth.signIn(userId, meta(request), "password_reset"));
  });
  router.handle(c.refresh, async (request, reply) =>
    sendSession(reply, await auth.refresh(request.cookies[names.refresh], csrfOf(request, names.csrf))),
  );
  router.handle(c.logout, async (request, reply) => {
    let sessionId = request.principal?.sessionId;
    const refresh = request.cookies[names.refresh];
    if (!sessionId && refresh)
      sessionId = await auth.sessionOfRefreshToken(refresh, csrfOf(request, names.csrf));
    if (sessionId) await auth.logout(sessionId);
    clearSessionCookies(reply, secureCookies);
    return { ok: true as const };
  });
  router.handle(c.me, async (request) => auth.me(principalOf(request)));
  router.handle(c.updateMe, async (request) => account.updateMe(principalOf(request), request.body));
  router.handle(c.changePassword, async (request) =>
    account.changePassword(principalOf(request), request.body),
  );
  router.handle(c.accountDeletionPlan, async (request) => accountDeletion.plan(principalOf(request)));
  router.handle(c.deleteAccount, async (request, reply) => {
    await accountDeletion.delete(principalOf(request), request.body.password);
    clearSessionCookies(reply, secureCookies);
    return { ok: true as const };
  });
  router.handle(c.listSessions, async (request) => account.listSessions(principalOf(request)));
  router.handle(c.revokeOtherSessions, async (request) => account.revokeOthers(principalOf(request)));
  router.handle(c.revokeSession, async (request) => {
    await account.revokeSession(principalOf(request), request.params.sessionId);
    return { ok: true as const };
  });

  router.handle(c.sendVerification, async (request) => verification.send(principalOf(request).userId));
  router.handle(c.verifyCode, async (request) =>
    verification.verifyCode(principalOf(request).userId, request.body.code),
  );
  router.handle(c.verifyLink, async (request) => verification.verifyLink(request.body.token));

  router.handle(c.listTokens, async (request) => apiTokens.list(principalOf(request).userId));
  router.handle(c.createToken, async (request) =>
    apiTokens.create(principalOf(request).userId, request.body),
  );
  router.handle(c.revokeToken, async (request) => {
    await apiTokens.revoke(principalOf(request).userId, request.params.tokenId);
    return { ok: true as const };
  });
}
