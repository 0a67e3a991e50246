import { z } from "zod";
import { unifiedDiff } from "../diff.ts";
import { defineTool, type ToolContext, type ToolResult } from "../tool.ts";
import { WorkspaceError } from "../workspace.ts";
import { applyEdit, type Edit } from "./edit-core.ts";

export const editFileTool = defineTool({
  name: "edit_file",
  description:
    "Replace text in an existing file. old_string must match the file exactly (whitespace included) and in exactly " +
    "one place — include enough surrounding lines to make it unique — or set replace_all to change every occurrence. " +
    "Do not include the line numbers read_file shows.",
  input: z.object({
    path: z.string().describe("File path relative to the project root"),
    old_string: z.string().describe("The exact text to replace, copied from the file"),
    new_string: z.string().describe("The text to put in its place (may be empty to delete)"),
    replace_all: z
      .boolean()
      .optional()
      .describe("Replace every occurrence instead of requiring a unique match (default false)"),
  }),
  mutates: true,
  async execute(input, ctx) {
    return editFile(ctx, input.path, [input]);
  },
});

export const multiEditTool = defineTool({
  name: "multi_edit",
  description:
    "Make several replacements in one file at once. Edits apply in order, each to the result of the previous one, " +
    "with the same rules as edit_file. If any edit fails, none is written.",
  input: z.object({
    path: z.string().describe("File path relative to the project root"),
    edits: z
      .array(
        z.object({
          old_string: z.string().describe("The exact text to replace"),
          new_string: z.string().describe("The replacement text"),
          replace_all: z.boolean().optional().describe("Replace every occurrence (default false)"),
        }),
      )
      .min(1)
      .max(50)
      .describe("The edits, applied in order"),
  }),
  mutates: true,
  async execute(input, ctx) {
    return editFile(ctx, input.path, input.edits);
  },
});

async function editFile(ctx: ToolContext, path: string, edits: Edit[]): Promise<ToolResult> {
  let before: string;
  try {
    before = await ctx.workspace.readFile(path);
  } catch (err) {
    if (err instanceof WorkspaceError && err.code === "file_not_found") {
      return { output: `${path} does not exist. To create a file, use write_file.`, isError: true };
    }
    throw err;
  }
  let content = before;
  const notes: string[] = [];
  for (const [i, edit] of edits.entries()) {
    const outcome = applyEdit(content, edit, path);
    const which = edits.length > 1 ? `Edit ${i + 1} of ${edits.length}: ` : "";
    if (!outcome.ok) {
      const nothing = edits.length > 1 ? ` No edit was written (all or nothing).` : "";
      return { output: `${which}${outcome.error}${nothing}`, isError: true };
    }
    content = outcome.content;
    const where = outcome.replacements === 1 ? `line ${outcome.firstLine}` : `${outcome.replacements} places`;
    notes.push(
      `${which}replaced at ${where}${outcome.whitespaceTolerant ? " (matched ignoring whitespace differences)" : ""}`,
    );
  }
  await ctx.workspace.writeFile(path, content);
  const diff = unifiedDiff(path, before, content);
  return {
    output: `Edited ${path}: ${notes.join("; ")}.`,
    metadata: { path, diff, edits: edits.length },
    changedPaths: [path],
  };
}
