import { z } from "zod";
import { defineTool } from "../tool.ts";

export const listFilesTool = defineTool({
  name: "list_files",
  description:
    "List a directory of the project. Directories end with '/'. .git and node_modules are left out unless you list them by name.",
  input: z.object({
    path: z.string().optional().describe('Directory relative to the project root (default "" = the root)'),
    recursive: z.boolean().optional().describe("Include everything below, depth-first (default false)"),
    limit: z.number().int().min(1).max(5000).optional().describe("Most entries to return (default 500)"),
  }),
  mutates: false,
  async execute(input, ctx) {
    const dir = input.path ?? "";
    const { entries, truncated } = await ctx.workspace.list(dir, {
      recursive: input.recursive ?? false,
      limit: input.limit ?? 500,
    });
    if (entries.length === 0)
      return { output: `${dir || "The project root"} is empty.`, metadata: { entries } };
    const lines = entries.map((e) =>
      e.type === "directory" ? `${e.path}/` : e.type === "symlink" ? `${e.path} (symlink)` : e.path,
    );
    if (truncated)
      lines.push(`(stopped after ${entries.length} entries; list a subdirectory or raise limit)`);
    return { output: lines.join("\n"), metadata: { entries, truncated } };
  },
});
