import { routes } from "@kiln/protocol";
import { call } from "../call.ts";

const h = routes.history;

export const history = {
  list: (org: string, project: string, before?: string) =>
    call(h.list, { params: { org, project }, query: { before, limit: 50 } }),
  diff: (org: string, project: string, sha: string) => call(h.diff, { params: { org, project, sha } }),
  restore: (org: string, project: string, sha: string, force?: boolean) =>
    call(h.restore, { params: { org, project, sha }, body: { force } }),
  undo: (org: string, project: string, messageId: string, force?: boolean) =>
    call(h.undo, { params: { org, project }, body: { messageId, force } }),
};
