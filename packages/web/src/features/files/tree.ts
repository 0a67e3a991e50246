import type { FileEntry } from "@kiln/protocol";
import { basename, dirname } from "../../lib/paths.ts";

export interface TreeNode {
  path: string;
  name: string;
  type: FileEntry["type"];
  children: TreeNode[];
}

/** The flat listing the API returns, as a tree: folders first, then files, each by name. */
export function buildTree(all: readonly FileEntry[]): TreeNode[] {
  // Git's own files are never edited by hand.
  const entries = all.filter((e) => e.path !== ".git" && !e.path.startsWith(".git/"));
  const root: TreeNode = { path: "", name: "", type: "directory", children: [] };
  const byPath = new Map<string, TreeNode>([["", root]]);
  for (const e of entries) {
    const node: TreeNode = { path: e.path, name: basename(e.path), type: e.type, children: [] };
    byPath.set(e.path, node);
  }
  for (const e of entries) {
    const parent = byPath.get(dirname(e.path)) ?? root;
    parent.children.push(byPath.get(e.path)!);
  }
  const sort = (n: TreeNode) => {
    n.children.sort((a, b) => {
      const da = a.type === "directory" ? 0 : 1;
      const db = b.type === "directory" ? 0 : 1;
      return da - db || a.name.localeCompare(b.name, undefined, { numeric: true });
    });
    for (const c of n.children) sort(c);
  };
  sort(root);
  return root.children;
}

/** Folders the API lists without their contents (dependencies): shown, but not expandable. */
export function ignored(node: TreeNode): boolean {
  return node.type === "directory" && node.name === "node_modules";
}

/** The rows a tree shows with the given folders open, depth-first. */
export function visibleRows(
  nodes: readonly TreeNode[],
  open: ReadonlySet<string>,
  depth = 0,
): Array<{ node: TreeNode; depth: number }> {
  const rows: Array<{ node: TreeNode; depth: number }> = [];
  for (const node of nodes) {
    rows.push({ node, depth });
    if (node.type === "directory" && open.has(node.path))
      rows.push(...visibleRows(node.children, open, depth + 1));
  }
  return rows;
}
