import { routes } from "@kiln/protocol";
import { call } from "../call.ts";

const i = routes.invitations;

export const invitations = {
  preview: (token: string) => call(i.preview, { params: { token } }),
  accept: (token: string) => call(i.accept, { params: { token } }),
};
