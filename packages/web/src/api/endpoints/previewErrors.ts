import { routes } from "@kiln/protocol";
import { type BodyOf, call } from "../call.ts";

const p = routes.previewErrors;
const fixErrors = routes.chats.fixErrors;

export const previewErrors = {
  list: (org: string, project: string) => call(p.list, { params: { org, project } }),
  clear: (org: string, project: string) => call(p.clear, { params: { org, project } }),
  // The fix is a chat turn (chats/routes.ts), asked for from the preview's error banner.
  fix: (org: string, project: string, body: BodyOf<typeof fixErrors>) =>
    call(fixErrors, { params: { org, project }, body }),
};
