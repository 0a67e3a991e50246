/** POSIX path helpers for project-relative paths ("" is the root). */

export function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

export function dirname(path: string): string {
  const at = path.lastIndexOf("/");
  return at < 0 ? "" : path.slice(0, at);
}

export function join(dir: string, name: string): string {
  return dir ? `${dir}/${name}` : name;
}

/** True when `path` is `dir` itself or inside it. */
export function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(`${dir}/`);
}

/** A name typed by a person: no separators at the ends, no empty, `.` or `..` segments. */
export function validName(name: string): string | undefined {
  const trimmed = name.trim();
  if (!trimmed) return "Enter a name.";
  if (trimmed.startsWith("/") || trimmed.endsWith("/")) return "No leading or trailing slash.";
  if (trimmed.split("/").some((s) => s === "" || s === "." || s === "..")) return "That is not a valid path.";
  if (trimmed.length > 255) return "That name is too long.";
  return undefined;
}

const LANGUAGES: Record<string, string> = {
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
  json: "json",
  css: "css",
  scss: "scss",
  less: "less",
  html: "html",
  htm: "html",
  md: "markdown",
  markdown: "markdown",
  svg: "xml",
  xml: "xml",
  yml: "yaml",
  yaml: "yaml",
  sh: "shell",
  py: "python",
  sql: "sql",
  toml: "ini",
  ini: "ini",
};

/** The Monaco language for a file name. */
export function languageOf(path: string): string {
  const name = basename(path).toLowerCase();
  if (name === "dockerfile") return "dockerfile";
  const ext = name.includes(".") ? name.slice(name.lastIndexOf(".") + 1) : "";
  return LANGUAGES[ext] ?? "plaintext";
}
