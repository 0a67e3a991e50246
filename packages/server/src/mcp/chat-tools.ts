import { routes } from "@kiln/protocol";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ChatService } from "../chats/service.ts";
import { orgTool, type ToolContext } from "./tool.ts";

/** A project's chats with Kiln's agent: read them, start one, ask in one (the turn runs on without the caller). */
export function chatTools(server: McpServer, ctx: ToolContext, deps: { chats: ChatService }): void {
  const c = routes.chats;
  orgTool(server, ctx, "list_chats", {
    route: c.list,
    description: "A project's chats, newest first",
    run: (scope, params) => deps.chats.list(scope, params.project),
  });
  orgTool(server, ctx, "get_chat", {
    route: c.get,
    description: "A chat with its messages (poll it to follow a turn started with send_chat_message)",
    run: (scope, params) => deps.chats.get(scope, params.project, params.chatId),
  });
  orgTool(server, ctx, "create_chat", {
    route: c.create,
    description: "Start a chat with Kiln's agent (or one of the org's agents) in a project",
    run: (scope, params, body) => deps.chats.create(scope, params.project, body),
  });
  orgTool(server, ctx, "send_chat_message", {
    route: c.send,
    description: "Ask Kiln's agent in a chat; the answer runs in the background, read it with get_chat",
    run: (scope, params, body) => deps.chats.send(scope, params.project, params.chatId, body),
  });
}
