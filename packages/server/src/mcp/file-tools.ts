import { routes } from "@kiln/protocol";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { FileService } from "../files/service.ts";
import { orgTool, type ToolContext } from "./tool.ts";

/** A project's files, through the file API's path checks (no escape by `..`, absolute paths or symlinks). */
export function fileTools(server: McpServer, ctx: ToolContext, deps: { files: FileService }): void {
  const c = routes.files;
  orgTool(server, ctx, "list_files", {
    route: c.tree,
    description: "List a project's files recursively (or one directory's, with `path`)",
    run: (scope, params, query) => deps.files.tree(scope, params.project, query),
  });
  orgTool(server, ctx, "read_file", {
    route: c.read,
    description: "Read a project file (text, or base64 for binary), optionally a range of lines",
    run: (scope, params, query) => deps.files.read(scope, params.project, query),
  });
  orgTool(server, ctx, "write_file", {
    route: c.write,
    description:
      "Create or replace a project file; pass `expectedVersion` from read_file to refuse overwriting someone else's change",
    run: (scope, params, body) => deps.files.write(scope, params.project, body),
  });
  orgTool(server, ctx, "search_files", {
    route: c.search,
    description: "Search a project's file contents (text or regex) or names",
    run: (scope, params, query) => deps.files.search(scope, params.project, query),
  });
}
