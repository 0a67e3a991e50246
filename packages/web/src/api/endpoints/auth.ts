import type { ApiToken, EmailVerified, Me, Session, VerificationSent } from "@kiln/protocol";
import { http } from "../client.ts";
import { e, type Ok } from "./paths.ts";

export const auth = {
  me: () => http.get<Me>("/api/auth/me"),
  signup: (body: { email: string; password: string; name?: string }) =>
    http.post<Session>("/api/auth/signup", body),
  login: (body: { email: string; password: string }) => http.post<Session>("/api/auth/login", body),
  logout: () => http.post<Ok>("/api/auth/logout"),
  tokens: () => http.get<ApiToken[]>("/api/auth/tokens"),
  createToken: (body: { name: string; expiresInDays?: number }) =>
    http.post<ApiToken & { token: string }>("/api/auth/tokens", body),
  revokeToken: (id: string) => http.delete<Ok>(`/api/auth/tokens/${e(id)}`),
  sendVerification: () => http.post<VerificationSent>("/api/auth/verify-email/send"),
  verifyCode: (code: string) => http.post<EmailVerified>("/api/auth/verify-email/code", { code }),
  verifyLink: (token: string) => http.post<EmailVerified>("/api/auth/verify-email", { token }),
};
