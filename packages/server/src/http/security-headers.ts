import type { FastifyInstance } from "fastify";

/**
 * Headers every studio response carries (previews never get here: preview/server.ts). Only the studio
 * itself may frame it (clickjacking); X-Frame-Options says the same to browsers without CSP level 2. A
 * page the studio opens on another origin (a preview in a new tab) gets no handle back to the studio's
 * window, whatever the opening code did.
 */
export const STUDIO_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "frame-ancestors 'self'",
  "x-frame-options": "SAMEORIGIN",
  "cross-origin-opener-policy": "same-origin",
};

export function installSecurityHeaders(app: FastifyInstance): void {
  // onRequest, so error answers and the not-found handler have them too.
  app.addHook("onRequest", async (_request, reply) => {
    reply.headers(STUDIO_HEADERS);
  });
}
