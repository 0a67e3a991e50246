import {
  ApiToken,
  CreateApiTokenBody,
  CreatedApiToken,
  CSRF_HEADER,
  EmailVerified,
  ErrorEnvelope,
  Id,
  LoginBody,
  Me,
  Ok,
  Session,
  SignupBody,
  VerificationSent,
  VerifyEmailCodeBody,
  VerifyEmailLinkBody,
} from "@kiln/protocol";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { type ClientMeta, principalOf } from "../http/principal.ts";
import type { ApiTokenService } from "./api-tokens.ts";
import { clearSessionCookies, sessionCookieNames, setSessionCookies } from "./cookies.ts";
import type { EmailVerificationService } from "./email-verification.ts";
import type { AuthService, IssuedSession } from "./service.ts";

const errors = { "4xx": ErrorEnvelope };
const tags = ["auth"];

function meta(request: FastifyRequest): ClientMeta {
  return { ip: request.ip, userAgent: request.headers["user-agent"] };
}

function csrfOf(request: FastifyRequest, cookieName: string) {
  const header = request.headers[CSRF_HEADER];
  return { cookie: request.cookies[cookieName], header: typeof header === "string" ? header : undefined };
}

export function authRoutes(
  app: FastifyInstance,
  deps: {
    auth: AuthService;
    apiTokens: ApiTokenService;
    verification: EmailVerificationService;
    secureCookies: boolean;
  },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { auth, apiTokens, verification, secureCookies } = deps;
  const names = sessionCookieNames(secureCookies);

  const sendSession = (reply: FastifyReply, session: IssuedSession, status = 200) => {
    setSessionCookies(reply, session, secureCookies);
    return reply.code(status).send({
      user: session.user,
      accessToken: session.accessToken,
      accessTokenExpiresAt: session.accessTokenExpiresAt.toISOString(),
      csrfToken: session.csrfToken,
    });
  };

  r.post(
    "/api/auth/signup",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary: "Create an account (and its personal org)",
        body: SignupBody,
        response: { 201: Session, ...errors },
      },
    },
    async (request, reply) => sendSession(reply, await auth.signup(request.body, meta(request)), 201),
  );

  r.post(
    "/api/auth/login",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary: "Log in with email and password",
        body: LoginBody,
        response: { 200: Session, ...errors },
      },
    },
    async (request, reply) => sendSession(reply, await auth.login(request.body, meta(request))),
  );

  r.post(
    "/api/auth/refresh",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary: "Rotate the refresh cookie and get a new access token",
        response: { 200: Session, ...errors },
      },
    },
    async (request, reply) =>
      sendSession(reply, await auth.refresh(request.cookies[names.refresh], csrfOf(request, names.csrf))),
  );

  r.post(
    "/api/auth/logout",
    {
      config: { auth: "optional" },
      schema: { tags, summary: "End this session", response: { 200: Ok, ...errors } },
    },
    async (request, reply) => {
      let sessionId = request.principal?.sessionId;
      const refresh = request.cookies[names.refresh];
      if (!sessionId && refresh)
        sessionId = await auth.sessionOfRefreshToken(refresh, csrfOf(request, names.csrf));
      if (sessionId) await auth.logout(sessionId);
      clearSessionCookies(reply, secureCookies);
      return { ok: true as const };
    },
  );

  r.get(
    "/api/auth/me",
    { schema: { tags, summary: "The current user and their orgs", response: { 200: Me, ...errors } } },
    async (request) => auth.me(principalOf(request)),
  );

  r.post(
    "/api/auth/verify-email/send",
    {
      schema: {
        tags,
        summary: "Mail a new verification code and link to the signed-in user's address (rate-limited)",
        response: { 200: VerificationSent, ...errors },
      },
    },
    async (request) => verification.send(principalOf(request).userId),
  );

  r.post(
    "/api/auth/verify-email/code",
    {
      schema: {
        tags,
        summary: "Verify the signed-in user's email address with the mailed code",
        body: VerifyEmailCodeBody,
        response: { 200: EmailVerified, ...errors },
      },
    },
    async (request) => verification.verifyCode(principalOf(request).userId, request.body.code),
  );

  r.post(
    "/api/auth/verify-email",
    {
      config: { auth: "none" },
      schema: {
        tags,
        summary: "Verify an email address with the secret from the mailed link (no session needed)",
        body: VerifyEmailLinkBody,
        response: { 200: EmailVerified, ...errors },
      },
    },
    async (request) => verification.verifyLink(request.body.token),
  );

  r.get(
    "/api/auth/tokens",
    {
      schema: { tags, summary: "List personal API tokens", response: { 200: z.array(ApiToken), ...errors } },
    },
    async (request) => apiTokens.list(principalOf(request).userId),
  );

  r.post(
    "/api/auth/tokens",
    {
      schema: {
        tags,
        summary: "Create a personal API token (the secret is returned once)",
        body: CreateApiTokenBody,
        response: { 201: CreatedApiToken, ...errors },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await apiTokens.create(principalOf(request).userId, request.body)),
  );

  r.delete(
    "/api/auth/tokens/:tokenId",
    {
      schema: {
        tags,
        summary: "Revoke a personal API token",
        params: z.strictObject({ tokenId: Id }),
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      await apiTokens.revoke(principalOf(request).userId, request.params.tokenId);
      return { ok: true as const };
    },
  );
}
