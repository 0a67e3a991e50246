import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const e = routes.shareLinks;

export const shareLinks = {
  list: (org: string, project: string) => call(e.list, { params: { org, project } }),
  create: (org: string, project: string, body: BodyOf<typeof e.create>) =>
    call(e.create, { params: { org, project }, body }),
  revoke: (org: string, project: string, shareLink: string) =>
    call(e.revoke, { params: { org, project, shareLink } }),
};
