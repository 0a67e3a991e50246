import { cp, writeFile } from "node:fs/promises";
import path from "node:path";
import type { TemplateManifest } from "@kiln/protocol";

/** Never copied from a template, at any depth: installed dependencies, build outputs, VCS data, local junk. */
const EXCLUDED_NAMES = new Set(["node_modules", ".git", "dist", "build", "coverage", ".env", ".DS_Store"]);
/** Kiln's per-project working files (`.kiln/vite` is Vite's cache) are made by the dev server, not copied. */
const EXCLUDED_DIRS = new Set([".kiln"]);

/** Whether a template-relative path (`/`-separated) is copied into a new project. */
export function isCopied(relPath: string): boolean {
  const parts = relPath.split("/");
  if (parts.some((p) => EXCLUDED_NAMES.has(p) || p.endsWith(".log"))) return false;
  return !EXCLUDED_DIRS.has(parts[0]!);
}

/** Copies a template's files into an existing, empty project directory. */
export async function copyTemplate(templateDir: string, projectDir: string): Promise<void> {
  await cp(templateDir, projectDir, {
    recursive: true,
    // The project directory is new and empty; never overwrite anything that is somehow there.
    force: false,
    // Symlinks are copied as links, not followed: a template cannot pull in files from elsewhere.
    verbatimSymlinks: true,
    filter: (src) => {
      const rel = path.relative(templateDir, src);
      return rel === "" || isCopied(rel.split(path.sep).join("/"));
    },
  });
}

/** Kiln's `.gitignore` for a project: the shared defaults plus the template's own lines. */
export function gitignoreFor(manifest: TemplateManifest): string {
  const lines = [
    "# Dependencies (installed from package-lock.json)",
    "node_modules/",
    "# Kiln's working files (dev-server caches)",
    ".kiln/",
    "# Local secrets and noise",
    ".env",
    ".env.*",
    "*.log",
    ".DS_Store",
  ];
  const extra = manifest.gitignore.filter((line) => !lines.includes(line));
  if (extra.length > 0) lines.push(`# ${manifest.name} template`, ...extra);
  return `${lines.join("\n")}\n`;
}

export async function writeGitignore(projectDir: string, manifest: TemplateManifest): Promise<void> {
  await writeFile(path.join(projectDir, ".gitignore"), gitignoreFor(manifest), { flag: "wx" });
}
