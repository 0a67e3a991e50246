import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const a = routes.auth;

export const auth = {
  me: () => call(a.me, {}),
  signup: (body: BodyOf<typeof a.signup>) => call(a.signup, { body }),
  login: (body: BodyOf<typeof a.login>) => call(a.login, { body }),
  logout: () => call(a.logout, {}),
  tokens: () => call(a.listTokens, {}),
  createToken: (body: BodyOf<typeof a.createToken>) => call(a.createToken, { body }),
  revokeToken: (id: string) => call(a.revokeToken, { params: { tokenId: id } }),
  sendVerification: () => call(a.sendVerification, {}),
  verifyCode: (code: string) => call(a.verifyCode, { body: { code } }),
  verifyLink: (token: string) => call(a.verifyLink, { body: { token } }),
};
