import path from "node:path";
import { type Plugin, parseSync } from "vite";

/** The attribute Kiln's element picker reads: `src/App.tsx:12:5` (file relative to the project, line, column). */
export const SOURCE_ATTRIBUTE = "data-kiln-source";

interface Node {
  type?: unknown;
  start?: unknown;
  end?: unknown;
  [key: string]: unknown;
}

/**
 * Adds `data-kiln-source="<file>:<line>:<column>"` to every host JSX element (`<button>`, `<div>`, not
 * `<Card>` or `<motion.div>`) in `code`, so the studio's element picker can say where a clicked element
 * was written. Returns undefined when there is nothing to annotate or the code does not parse.
 */
export function annotateJsx(code: string, file: string): string | undefined {
  if (!code.includes("<")) return undefined;
  let program: Node;
  try {
    const parsed = parseSync(file, code, { lang: file.endsWith(".jsx") ? "jsx" : "tsx" });
    if (parsed.errors.length > 0) return undefined;
    program = parsed.program as unknown as Node;
  } catch {
    return undefined;
  }
  const inserts: { at: number; text: string }[] = [];
  const lineStarts = [0];
  for (let i = 0; i < code.length; i++) if (code.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const position = (offset: number) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return `${lo + 1}:${offset - (lineStarts[lo] ?? 0) + 1}`;
  };
  const visit = (node: unknown) => {
    if (Array.isArray(node)) {
      for (const child of node) visit(child);
      return;
    }
    if (!node || typeof node !== "object") return;
    const n = node as Node;
    if (n.type === "JSXOpeningElement") {
      const name = n.name as Node;
      const attributes = (n.attributes as Node[]) ?? [];
      const tag = name?.type === "JSXIdentifier" ? String(name.name) : "";
      const annotated = attributes.some(
        (a) => a.type === "JSXAttribute" && (a.name as Node)?.name === SOURCE_ATTRIBUTE,
      );
      if (/^[a-z]/.test(tag) && !annotated && typeof n.start === "number" && typeof name.end === "number") {
        inserts.push({
          at: name.end,
          text: ` ${SOURCE_ATTRIBUTE}="${escapeAttribute(file)}:${position(n.start)}"`,
        });
      }
    }
    for (const key of Object.keys(n)) {
      if (key === "type" || key === "start" || key === "end" || key === "range") continue;
      visit(n[key]);
    }
  };
  visit(program);
  if (inserts.length === 0) return undefined;
  inserts.sort((a, b) => b.at - a.at);
  let out = code;
  for (const { at, text } of inserts) out = out.slice(0, at) + text + out.slice(at);
  return out;
}

function escapeAttribute(value: string): string {
  return value.replace(/[&"<>{}]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Vite plugin, dev server only (`vite build` output stays as written): annotates the project's own
 * `.jsx`/`.tsx` files before React's transform sees them. Source maps are left to the later transforms.
 */
export function kilnSource(): Plugin {
  let root = process.cwd();
  return {
    name: "kiln-source",
    apply: "serve",
    enforce: "pre",
    configResolved(config) {
      root = config.root;
    },
    transform(code, id) {
      const file = id.split("?")[0] ?? id;
      if (!/\.[jt]sx$/.test(file) || file.includes("/node_modules/")) return undefined;
      const relative = path.relative(root, file).split(path.sep).join("/");
      if (relative.startsWith("..")) return undefined;
      const out = annotateJsx(code, relative);
      return out === undefined ? undefined : { code: out, map: null };
    },
  };
}
