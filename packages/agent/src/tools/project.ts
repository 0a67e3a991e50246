import { z } from "zod";
import { defineTool } from "../tool.ts";

export const projectInfoTool = defineTool({
  name: "project_info",
  description:
    "Describe the project: name, template, preview URL and the template's guide (KILN.md: layout and how it runs).",
  input: z.object({}),
  mutates: false,
  async execute(_input, ctx) {
    if (!ctx.workspace.info)
      return { output: "Project information is not available in this workspace.", isError: true };
    const info = await ctx.workspace.info();
    const lines = [`Name: ${info.name}`, `Slug: ${info.slug}`, `Template: ${info.template}`];
    if (info.description) lines.push(`Description: ${info.description}`);
    if (info.previewUrl) lines.push(`Preview: ${info.previewUrl}`);
    if (info.guide) lines.push("", "Guide (KILN.md):", info.guide);
    return { output: lines.join("\n"), metadata: info };
  },
});

export const previewStatusTool = defineTool({
  name: "preview_status",
  description:
    "Check the preview's dev server: its state and recent build/runtime errors from its log and from the browser. " +
    "Use it after changes to see whether the app still builds and runs.",
  input: z.object({}),
  mutates: false,
  async execute(_input, ctx) {
    if (!ctx.workspace.previewStatus) {
      return { output: "Preview status is not available in this workspace.", isError: true };
    }
    const status = await ctx.workspace.previewStatus();
    const lines = [`Dev server: ${status.state}${status.detail ? ` (${status.detail})` : ""}`];
    lines.push(
      status.errors.length
        ? `Recent dev-server errors:\n${status.errors.join("\n")}`
        : "No recent dev-server errors.",
    );
    lines.push(
      status.browserErrors.length
        ? `Errors reported by the browser:\n${status.browserErrors.join("\n")}`
        : "No errors reported by the browser.",
    );
    return { output: lines.join("\n"), metadata: status };
  },
});
