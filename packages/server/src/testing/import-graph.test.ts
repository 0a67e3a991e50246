import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { findCycles, graphOf, readPackage, specifiers } from "./import-graph.ts";

const graph = (pairs: Array<[string, string]>) => {
  const edges = new Map<string, Set<string>>();
  for (const [from, to] of pairs) {
    edges.set(from, (edges.get(from) ?? new Set()).add(to));
    if (!edges.has(to)) edges.set(to, new Set());
  }
  return edges;
};

describe("import graph", () => {
  it("reads every kind of specifier and none from comments", () => {
    const source = [
      'import { a } from "./a.ts";',
      'import type { B } from "../b/b.ts";',
      'import "./side-effect.ts";',
      'export { c } from "./c.ts";',
      'export * from "./d.ts";',
      "import {\n  e,\n  type F,\n} from '@kiln/protocol';",
      'const g = await import("./g.ts");',
      '// import { x } from "./commented.ts";',
      '/* export * from "./block.ts"; */',
      'const url = "http://example.com/import";',
    ].join("\n");
    expect(specifiers(source)).toEqual([
      "./a.ts",
      "../b/b.ts",
      "./side-effect.ts",
      "./c.ts",
      "./d.ts",
      "@kiln/protocol",
      "./g.ts",
    ]);
  });

  it("resolves relative imports to files and bare ones to package names", async () => {
    const src = await mkdtemp(path.join(os.tmpdir(), "kiln-graph-"));
    await mkdir(path.join(src, "tasks"));
    await mkdir(path.join(src, "workflows"));
    await writeFile(path.join(src, "tasks", "index.ts"), 'import { w } from "../workflows/service";\n');
    await writeFile(
      path.join(src, "workflows", "service.ts"),
      'import { t } from "../tasks";\nimport { z } from "zod";\nimport x from "@scope/pkg/sub";\nimport "./styles.css";\n',
    );
    const files = readPackage(src);
    expect(files).toEqual([
      { path: "tasks/index.ts", local: ["workflows/service.ts"], packages: [] },
      { path: "workflows/service.ts", local: ["tasks/index.ts"], packages: ["zod", "@scope/pkg"] },
    ]);
    expect(findCycles(graphOf(files, (p) => p.split("/")[0] as string))).toEqual([
      ["tasks", "workflows", "tasks"],
    ]);
  });

  it("names each circle once, from its smallest node, and ignores a straight line", () => {
    expect(
      findCycles(
        graph([
          ["a", "b"],
          ["b", "c"],
        ]),
      ),
    ).toEqual([]);
    expect(
      findCycles(
        graph([
          ["tasks", "workflows"],
          ["workflows", "automation"],
          ["automation", "tasks"],
          ["kiln", "tasks"],
        ]),
      ),
    ).toEqual([["automation", "tasks", "workflows", "automation"]]);
    expect(findCycles(graph([["x", "x"]]))).toEqual([["x", "x"]]);
  });

  it("shows every circle of a tangle, not only one", () => {
    const cycles = findCycles(
      graph([
        ["a", "b"],
        ["b", "a"],
        ["b", "c"],
        ["c", "b"],
      ]),
    );
    expect(cycles).toEqual([
      ["a", "b", "a"],
      ["b", "c", "b"],
    ]);
  });
});
