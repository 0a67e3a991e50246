import { routes } from "@kiln/protocol";
import type { FastifyReply, FastifyRequest } from "fastify";
import { KilnError } from "../../errors/errors.ts";
import { principalOf } from "../../http/principal.ts";
import type { OrgRouter } from "../../orgs/router.ts";
import { setSessionCookies } from "../cookies.ts";
import type { AuthService } from "../service.ts";
import type { FlowCookie } from "./flow.ts";
import type { CallbackOutcome, OidcService } from "./service.ts";

/**
 * Only a path of this studio: `/x`, never `//host`, `/\host` or a scheme (an open redirect would hand the
 * freshly signed-in browser to anyone's page).
 */
export function safeNext(next: string | undefined): string | null {
  if (!next?.startsWith("/") || next.startsWith("//") || next.includes("\\")) return null;
  for (let i = 0; i < next.length; i++) if (next.charCodeAt(i) < 0x20) return null;
  return next;
}

export function oidcRoutes(
  router: OrgRouter,
  deps: { oidc: OidcService; auth: AuthService; cookie: FlowCookie; secureCookies: boolean },
): void {
  const { oidc, auth, cookie, secureCookies } = deps;
  const c = routes.auth;

  router.handle(c.oidcStart, async (request, reply) => {
    const { url, flow } = await oidc.start(request.params.provider, safeNext(request.query.next), null);
    if (!url || !flow) return reply.redirect("/login?sso_error=unavailable", 302);
    cookie.set(reply, flow);
    return reply.redirect(url, 302);
  });

  router.handle(c.oidcCallback, async (request, reply) => {
    const flow = cookie.read(request.cookies[cookie.name]);
    cookie.clear(reply);
    const outcome = await oidc.callback(request.params.provider, request.query, flow);
    return finish(request, reply, outcome);
  });

  router.handle(c.oidcLink, async (request, reply) => {
    const { url, flow } = await oidc.start(request.params.provider, null, principalOf(request).userId);
    if (!url || !flow) throw new KilnError("unavailable", "the sign-in provider cannot be reached right now");
    cookie.set(reply, flow);
    return { url };
  });

  router.handle(c.signInMethods, async (request) => oidc.methods(principalOf(request).userId));
  router.handle(c.unlinkIdentity, async (request) =>
    oidc.unlink(principalOf(request).userId, request.params.provider),
  );

  async function finish(request: FastifyRequest, reply: FastifyReply, outcome: CallbackOutcome) {
    if (outcome.kind === "failed") {
      const page = outcome.linking ? "/account" : "/login";
      return reply.redirect(`${page}?sso_error=${outcome.failure}`, 302);
    }
    if (outcome.kind === "linked") return reply.redirect("/account?sso_linked=1", 302);
    const session = await auth.signIn(
      outcome.userId,
      { ip: request.ip, userAgent: request.headers["user-agent"] },
      outcome.provider,
    );
    await oidc.attachSession(session.sessionId, outcome.provider, outcome.refreshToken);
    setSessionCookies(reply, session, secureCookies);
    return reply.redirect(outcome.next ?? "/", 302);
  }
}
