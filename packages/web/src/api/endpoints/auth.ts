import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const a = routes.auth;

export const auth = {
  me: () => call(a.me, {}),
  signup: (body: BodyOf<typeof a.signup>) => call(a.signup, { body }),
  login: (body: BodyOf<typeof a.login>) => call(a.login, { body }),
  logout: () => call(a.logout, {}),
  updateMe: (body: BodyOf<typeof a.updateMe>) => call(a.updateMe, { body }),
  changePassword: (body: BodyOf<typeof a.changePassword>) => call(a.changePassword, { body }),
  sessions: () => call(a.listSessions, {}),
  revokeOtherSessions: () => call(a.revokeOtherSessions, {}),
  revokeSession: (id: string) => call(a.revokeSession, { params: { sessionId: id } }),
  tokens: () => call(a.listTokens, {}),
  createToken: (body: BodyOf<typeof a.createToken>) => call(a.createToken, { body }),
  revokeToken: (id: string) => call(a.revokeToken, { params: { tokenId: id } }),
  sendVerification: () => call(a.sendVerification, {}),
  verifyCode: (code: string) => call(a.verifyCode, { body: { code } }),
  verifyLink: (token: string) => call(a.verifyLink, { body: { token } }),
  signInMethods: () => call(a.signInMethods, {}),
  linkProvider: (provider: string) => call(a.oidcLink, { params: { provider } }),
  unlinkProvider: (provider: string) => call(a.unlinkIdentity, { params: { provider } }),
  deletionPlan: () => call(a.accountDeletionPlan, {}),
  deleteAccount: (password: string) => call(a.deleteAccount, { body: { password } }),
  requestPasswordReset: (email: string) => call(a.requestPasswordReset, { body: { email } }),
  resetPassword: (body: BodyOf<typeof a.resetPassword>) => call(a.resetPassword, { body }),
};
