import { z } from "zod";
import { Ok } from "../common.ts";
import { CreateTerminalBody, Terminal, TerminalId, TerminalServerMessage } from "../terminal.ts";
import { defineRoute } from "./define.ts";
import { ProjectParams } from "./params.ts";

const tags = ["terminals"];
const TERMINALS = "/api/orgs/:org/projects/:project/terminals";
const TerminalParams = ProjectParams.extend({ terminalId: TerminalId });

/** Shells in a project's sandbox: typing into one runs code, so all but the list need a developer. */
export const terminals = {
  create: defineRoute({
    method: "POST",
    path: TERMINALS,
    summary: "Open a shell in the project's sandbox; attach to it through its socket",
    tags,
    permission: "projects.write",
    params: ProjectParams,
    body: CreateTerminalBody,
    status: 201,
    response: Terminal,
    errors: ["project_not_found", "conflict", "unavailable"],
  }),
  list: defineRoute({
    method: "GET",
    path: TERMINALS,
    summary: "Open terminals of the project",
    tags,
    permission: "projects.read",
    params: ProjectParams,
    response: z.array(Terminal),
    errors: ["project_not_found"],
  }),
  kill: defineRoute({
    method: "DELETE",
    path: `${TERMINALS}/:terminalId`,
    summary: "Kill a terminal's shell and everything it started",
    tags,
    permission: "projects.write",
    params: TerminalParams,
    response: Ok,
    errors: ["project_not_found", "terminal_not_found"],
  }),
  socket: defineRoute({
    method: "GET",
    path: `${TERMINALS}/:terminalId/socket`,
    summary:
      "WebSocket to a terminal: replays recent output, then streams; send input and resize messages (426 without Upgrade)",
    tags,
    permission: "projects.write",
    params: TerminalParams,
    response: TerminalServerMessage,
    stream: "websocket",
    errors: ["project_not_found", "terminal_not_found", "origin_forbidden", "upgrade_required"],
  }),
};
