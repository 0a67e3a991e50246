import { describe, expect, it } from "vitest";
import { DirWorkspace } from "../dir-workspace.ts";
import { toolHarness } from "../testing/harness.ts";
import { previewStatusTool, projectInfoTool } from "./project.ts";

describe("project_info / preview_status", () => {
  const workspace = new DirWorkspace({
    root: "/nonexistent",
    info: async () => ({
      name: "Shop",
      slug: "shop",
      template: "react-vite",
      guide: "Run with npm run dev.",
      previewUrl: "http://shop.localhost",
    }),
    previewStatus: async () => ({
      state: "running",
      errors: ["src/App.tsx:3: Unexpected token"],
      browserErrors: [],
    }),
  });

  it("describes the project", async () => {
    const result = await toolHarness(workspace).call(projectInfoTool, {});
    expect(result.output).toBe(
      "Name: Shop\nSlug: shop\nTemplate: react-vite\nPreview: http://shop.localhost\n\nGuide (KILN.md):\nRun with npm run dev.",
    );
  });

  it("reports dev-server and browser errors", async () => {
    const result = await toolHarness(workspace).call(previewStatusTool, {});
    expect(result.output).toBe(
      "Dev server: running\nRecent dev-server errors:\nsrc/App.tsx:3: Unexpected token\nNo errors reported by the browser.",
    );
  });

  it("says so when the workspace cannot tell", async () => {
    const bare = new DirWorkspace({ root: "/nonexistent" });
    expect((await toolHarness(bare).call(projectInfoTool, {})).output).toContain("not available");
    expect((await toolHarness(bare).call(previewStatusTool, {})).isError).toBe(true);
  });
});
