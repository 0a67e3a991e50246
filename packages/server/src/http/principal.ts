import type { FastifyRequest } from "fastify";
import { UnauthenticatedError } from "../errors/errors.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

/** Who is calling, resolved once per request by the auth hook and passed explicitly to services. */
export interface Principal {
  userId: string;
  email: string;
  name: string;
  via: "cookie" | "bearer" | "api_token";
  /** Set for session-based credentials (cookie or bearer JWT). */
  sessionId?: string;
  apiTokenId?: string;
}

export interface ClientMeta {
  ip: string;
  userAgent: string | undefined;
}

/** The caller the auth hook (auth/hook.ts) resolved; a route that needs one and has none answers 401. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthenticatedError();
  return request.principal;
}
