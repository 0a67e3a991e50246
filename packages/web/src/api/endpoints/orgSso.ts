import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const e = routes.orgSso;

export const orgSso = {
  get: (org: string) => call(e.get, { params: { org } }),
  put: (org: string, body: BodyOf<typeof e.put>) => call(e.put, { params: { org }, body }),
  remove: (org: string) => call(e.remove, { params: { org } }),
  verify: (org: string) => call(e.verify, { params: { org } }),
};
