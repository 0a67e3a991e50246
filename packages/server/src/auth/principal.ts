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
