import { routes } from "@kiln/protocol";
import { call, urlOf } from "../call.ts";

const t = routes.terminals;

export const terminals = {
  create: (org: string, project: string, size: { cols: number; rows: number }) =>
    call(t.create, { params: { org, project }, body: size }),
  list: (org: string, project: string) => call(t.list, { params: { org, project } }),
  kill: (org: string, project: string, id: string) =>
    call(t.kill, { params: { org, project, terminalId: id } }),
  socketUrl: (org: string, project: string, id: string) => {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    return `${scheme}//${location.host}${urlOf(t.socket, { params: { org, project, terminalId: id } })}`;
  },
};
