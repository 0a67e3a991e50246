import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/**
 * The import graph of a package's sources, read from the files themselves (no compiler): every
 * `import … from`, `export … from`, bare `import "…"` and dynamic `import("…")` specifier. Relative
 * specifiers are resolved to files; bare ones (`@kiln/protocol`, `react`, `node:fs`) are kept as package names.
 */
export type SourceFile = {
  /** Path relative to the package's src/, with forward slashes. */
  path: string;
  /** Relative imports, resolved to paths relative to the same src/ (or starting with `../` when they escape it). */
  local: string[];
  /** Bare specifiers, reduced to the package name (`@scope/name` or `name`). */
  packages: string[];
};

const SOURCE = /\.(ts|tsx)$/;
const SPECIFIER =
  /(?:^|[\s;}])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

export function listSources(srcDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      if (name === "node_modules") continue;
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (SOURCE.test(name) && !name.endsWith(".d.ts")) out.push(full);
    }
  };
  walk(srcDir);
  return out.sort();
}

export function specifiers(source: string): string[] {
  // Comments may quote imports as examples; drop them before matching.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  const found: string[] = [];
  for (const m of code.matchAll(SPECIFIER)) found.push((m[1] ?? m[2]) as string);
  return found;
}

function resolveLocal(fromFile: string, spec: string): string | undefined {
  const base = resolve(dirname(fromFile), spec.replace(/\?.*$/, ""));
  const candidates = [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts"), join(base, "index.tsx")];
  return candidates.find((c) => existsSync(c) && statSync(c).isFile());
}

function packageName(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}

const slash = (p: string) => p.split(sep).join("/");

export function readPackage(srcDir: string): SourceFile[] {
  return listSources(srcDir).map((file) => {
    const local: string[] = [];
    const packages: string[] = [];
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) {
        const target = resolveLocal(file, spec);
        // An unresolved relative import is an asset (`./styles.css`) or a typo the compiler reports.
        if (target && SOURCE.test(target)) local.push(slash(relative(srcDir, target)));
      } else packages.push(packageName(spec));
    }
    return { path: slash(relative(srcDir, file)), local, packages };
  });
}

/**
 * Every elementary cycle is too many to print; a shortest cycle through each node of each strongly
 * connected component names every tangle. Returns each cycle as its nodes, the first repeated at the end.
 */
export function findCycles(edges: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || edges.get(v)?.has(v)) components.push(component);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) connect(v);
  const cycles = new Map<string, string[]>();
  for (const component of components) {
    const members = new Set(component);
    for (const start of [...members].sort()) {
      const cycle = cycleThrough(start, members, edges);
      // The same circle reached from another of its nodes is printed once, from its smallest node.
      const ring = cycle.slice(0, -1);
      const first = ring.indexOf([...ring].sort()[0] as string);
      const rotated = [...ring.slice(first), ...ring.slice(0, first)];
      cycles.set(rotated.join("\0"), [...rotated, rotated[0] as string]);
    }
  }
  return [...cycles.values()];
}

/** A shortest cycle from start back to itself inside its component, found by breadth-first search. */
function cycleThrough(start: string, component: Set<string>, edges: Map<string, Set<string>>): string[] {
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift() as string;
    for (const w of [...(edges.get(v) ?? [])].sort()) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(parent.get(path[0] as string) as string);
        return [...path, start];
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** Collapses the file graph onto units (folders); edges inside one unit disappear. */
export function graphOf(files: SourceFile[], unit: (path: string) => string): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of files) {
    const from = unit(file.path);
    const out = edges.get(from) ?? new Set<string>();
    edges.set(from, out);
    for (const target of file.local) {
      const to = unit(target);
      if (to !== from) out.add(to);
    }
  }
  return edges;
}
