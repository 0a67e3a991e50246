import { z } from "zod";
import { unifiedDiff } from "../diff.ts";
import { countLines } from "../text.ts";
import { defineTool } from "../tool.ts";

export const writeFileTool = defineTool({
  name: "write_file",
  description:
    "Create a file or replace its whole content. Parent directories are created. " +
    "To change part of an existing file prefer edit_file, which cannot drop code by accident.",
  input: z.object({
    path: z.string().describe("File path relative to the project root, e.g. src/components/Button.tsx"),
    content: z.string().max(5_000_000).describe("The complete new content of the file"),
  }),
  mutates: true,
  async execute(input, ctx) {
    // What was there comes from the write itself: one step, and the diff is against exactly what it replaced.
    const { created, previous: before } = await ctx.workspace.writeFile(input.path, input.content, {
      previous: true,
    });
    const lines = countLines(input.content);
    const diff =
      before === undefined && !created ? undefined : unifiedDiff(input.path, before ?? "", input.content);
    const output = created
      ? `Created ${input.path} (${lines} lines).`
      : before === input.content
        ? `${input.path} already had this content; nothing changed.`
        : `Replaced the content of ${input.path} (${lines} lines, was ${before === undefined ? "not text" : `${countLines(before)} lines`}).`;
    return { output, metadata: { path: input.path, created, diff }, changedPaths: [input.path] };
  },
});
