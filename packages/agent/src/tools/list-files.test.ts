import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestWorkspace, tempWorkspace, toolHarness } from "../testing/harness.ts";
import { globTool } from "./glob.ts";
import { listFilesTool } from "./list-files.ts";

let t: TestWorkspace;
beforeAll(async () => {
  t = await tempWorkspace({
    "package.json": "{}",
    "src/App.tsx": "",
    "src/main.tsx": "",
    "src/lib/util.ts": "",
    "src/lib/util.test.ts": "",
    "node_modules/react/index.js": "",
    ".github/workflows/ci.yml": "",
  });
});
afterAll(() => t.dispose());

describe("list_files", () => {
  it("lists a directory, directories marked with a slash", async () => {
    const result = await toolHarness(t.workspace).call(listFilesTool, {});
    expect(result.output).toBe(".github/\npackage.json\nsrc/");
  });

  it("lists recursively with a limit and says when it stopped", async () => {
    const result = await toolHarness(t.workspace).call(listFilesTool, {
      path: "src",
      recursive: true,
      limit: 3,
    });
    expect(result.output).toBe(
      "src/App.tsx\nsrc/lib/\nsrc/lib/util.test.ts\n(stopped after 3 entries; list a subdirectory or raise limit)",
    );
  });

  it("refuses to leave the project", async () => {
    expect((await toolHarness(t.workspace).call(listFilesTool, { path: ".." })).output).toContain(
      "path_outside_project",
    );
  });
});

describe("glob", () => {
  it("matches names at any depth without a slash and paths with one", async () => {
    const h = toolHarness(t.workspace);
    expect((await h.call(globTool, { pattern: "*.tsx" })).output).toBe("src/App.tsx\nsrc/main.tsx");
    expect((await h.call(globTool, { pattern: "src/**/*.test.ts" })).output).toBe("src/lib/util.test.ts");
    expect((await h.call(globTool, { pattern: "*.ts", path: "src/lib" })).output).toBe(
      "src/lib/util.test.ts\nsrc/lib/util.ts",
    );
    expect((await h.call(globTool, { pattern: "lib/*.ts", path: "./src/" })).output).toBe(
      "src/lib/util.test.ts\nsrc/lib/util.ts",
    );
    expect((await h.call(globTool, { pattern: "*.yml", path: ".github" })).output).toBe(
      ".github/workflows/ci.yml",
    );
  });

  it("skips node_modules and says when nothing matches", async () => {
    const h = toolHarness(t.workspace);
    expect((await h.call(globTool, { pattern: "*.js" })).output).toBe("No files match *.js.");
    expect((await h.call(globTool, { pattern: "" })).isError).toBe(true);
  });
});
