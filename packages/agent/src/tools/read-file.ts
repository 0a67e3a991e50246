import { z } from "zod";
import { defineTool } from "../tool.ts";

const DEFAULT_LINES = 2000;
const MAX_LINE_CHARS = 2000;
const MAX_OUTPUT_CHARS = 60_000;

export const readFileTool = defineTool({
  name: "read_file",
  description:
    "Read a text file from the project. Lines come numbered (`   12\\tcode`) — the numbers are not part of the file. " +
    "Reads up to 2000 lines from `offset`; for longer files read the next range with a larger offset.",
  input: z.object({
    path: z.string().describe("File path relative to the project root, e.g. src/App.tsx"),
    offset: z.number().int().min(1).optional().describe("First line to return, 1-based (default 1)"),
    limit: z.number().int().min(1).max(5000).optional().describe("Number of lines to return (default 2000)"),
  }),
  mutates: false,
  maxOutputChars: MAX_OUTPUT_CHARS + 1000,
  async execute(input, ctx) {
    const text = await ctx.workspace.readFile(input.path);
    const lines = text.split("\n");
    if (lines.length > 1 && lines[lines.length - 1] === "") lines.pop();
    const total = text === "" ? 0 : lines.length;
    if (total === 0)
      return { output: `${input.path} is empty.`, metadata: { path: input.path, totalLines: 0 } };
    const start = input.offset ?? 1;
    if (start > total) {
      return {
        output: `offset ${start} is past the end of ${input.path}, which has ${total} lines.`,
        isError: true,
      };
    }
    const end = Math.min(total, start + (input.limit ?? DEFAULT_LINES) - 1);
    const width = String(end).length;
    const out: string[] = [];
    let chars = 0;
    let last = start - 1;
    for (let n = start; n <= end; n++) {
      let line = lines[n - 1]!.replace(/\r$/, "");
      if (line.length > MAX_LINE_CHARS)
        line = `${line.slice(0, MAX_LINE_CHARS)}… [line cut at ${MAX_LINE_CHARS} characters]`;
      const formatted = `${String(n).padStart(width, " ")}\t${line}`;
      if (chars + formatted.length > MAX_OUTPUT_CHARS && out.length > 0) break;
      out.push(formatted);
      chars += formatted.length + 1;
      last = n;
    }
    if (last < total) out.push(`(lines ${start}-${last} of ${total}; read on with offset ${last + 1})`);
    return {
      output: out.join("\n"),
      metadata: { path: input.path, startLine: start, endLine: last, totalLines: total },
    };
  },
});
