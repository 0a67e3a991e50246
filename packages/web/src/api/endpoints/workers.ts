import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const c = routes.workers;

export const workers = {
  list: (org: string) => call(c.list, { params: { org } }),
  tokens: (org: string) => call(c.tokens, { params: { org } }),
  createToken: (org: string, body: BodyOf<typeof c.createToken>) =>
    call(c.createToken, { params: { org }, body }),
  revokeToken: (org: string, tokenId: string) =>
    call(c.revokeToken, { params: { org, workerTokenId: tokenId } }),
};
