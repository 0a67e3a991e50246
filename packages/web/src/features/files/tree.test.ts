import type { FileEntry } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { buildTree, visibleRows } from "./tree.ts";

const entry = (path: string, type: FileEntry["type"] = "file"): FileEntry => ({
  path,
  type,
  size: 0,
  mtime: "2026-01-01T00:00:00.000Z",
});

const listing = [
  entry(".git", "directory"),
  entry(".git/HEAD"),
  entry("README.md"),
  entry("node_modules", "directory"),
  entry("src", "directory"),
  entry("src/b.ts"),
  entry("src/a.ts"),
  entry("src/lib", "directory"),
  entry("src/lib/x.ts"),
  entry("index.html"),
];

describe("file tree", () => {
  it("nests entries, folders before files, names in order, without .git", () => {
    const tree = buildTree(listing);
    expect(tree.map((n) => n.name)).toEqual(["node_modules", "src", "index.html", "README.md"]);
    expect(tree[1]!.children.map((n) => n.name)).toEqual(["lib", "a.ts", "b.ts"]);
  });

  it("shows the contents of open folders only", () => {
    const tree = buildTree(listing);
    expect(visibleRows(tree, new Set()).map((r) => r.node.path)).toEqual([
      "node_modules",
      "src",
      "index.html",
      "README.md",
    ]);
    const open = visibleRows(tree, new Set(["src", "src/lib"]));
    expect(open.map((r) => `${r.depth}:${r.node.path}`)).toEqual([
      "0:node_modules",
      "0:src",
      "1:src/lib",
      "2:src/lib/x.ts",
      "1:src/a.ts",
      "1:src/b.ts",
      "0:index.html",
      "0:README.md",
    ]);
  });
});
