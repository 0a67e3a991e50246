import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const c = routes.marketplace;

/** The marketplace (ADR 0040): templates published by orgs of this instance; publish, install, approve. */
export const marketplace = {
  list: (org: string, q?: string) => call(c.list, { params: { org }, query: q ? { q } : {} }),
  get: (org: string, listingId: string) => call(c.get, { params: { org, listingId } }),
  install: (org: string, listingId: string, body: BodyOf<typeof c.install>) =>
    call(c.install, { params: { org, listingId }, body }),
  publish: (org: string, project: string, body: BodyOf<typeof c.publish>) =>
    call(c.publish, { params: { org, project }, body }),
  project: (org: string, project: string) => call(c.project, { params: { org, project } }),
  pending: () => call(c.pending, {}),
  approve: (listingId: string) => call(c.approve, { params: { listingId } }),
};
