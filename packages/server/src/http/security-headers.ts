import type { FastifyInstance } from "fastify";

/**
 * Headers every studio response carries (previews never get here: host-server.ts). Only the studio
 * itself may frame it (clickjacking); X-Frame-Options says the same to browsers without CSP level 2. A
 * page the studio opens on another origin (a preview in a new tab) gets no handle back to the studio's
 * window, whatever the opening code did. No studio URL is sent as a Referer to another site: some carry a
 * secret in their path (an invitation, an email verification or a password reset link).
 */
export const STUDIO_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "frame-ancestors 'self'",
  "x-frame-options": "SAMEORIGIN",
  "cross-origin-opener-policy": "same-origin",
  "referrer-policy": "same-origin",
  "x-content-type-options": "nosniff",
};

export function installSecurityHeaders(app: FastifyInstance): void {
  // onRequest, so error answers and the not-found handler have them too.
  app.addHook("onRequest", async (_request, reply) => {
    reply.headers(STUDIO_HEADERS);
  });
}
