import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The trust rule (ADR 0016) in source form: the attack tests in this folder show each path holds; this
 * keeps the next change from reaching for a by-path chown or a host-side git on a project tree.
 */

const packages = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const ROOTS = ["server/src", "agent/src"].map((p) => path.join(packages, p));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sources(full);
    return entry.name.endsWith(".ts") && !/\.(test|int\.test|sys\.test)\.ts$/.test(entry.name) ? [full] : [];
  });
}

const files = ROOTS.flatMap(sources).map((file) => ({
  file: path.relative(packages, file),
  text: readFileSync(file, "utf8"),
}));

/** Where a hit is: `file:line: text`. */
function hits(pattern: RegExp): string[] {
  return files.flatMap(({ file, text }) =>
    text.split("\n").flatMap((line, i) => (pattern.test(line) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );
}

describe("the trust rule in the sources", () => {
  it("finds the files it reads", () => {
    expect(files.length).toBeGreaterThan(200);
    expect(files.some((f) => f.file === "server/src/worker/job-runner.ts")).toBe(true);
  });

  it("has no chown by path: ownership goes through a descriptor (handle.chown)", () => {
    // fs's chown/lchown/chownSync/lchownSync called as functions; `handle.chown(…)` (fchown) is fine.
    expect(hits(/(^|[^.\w])(l?chown|l?chownSync)\s*\(/)).toEqual([]);
    expect(hits(/\bfs\.(l?chown|l?chownSync)\s*\(/)).toEqual([]);
  });

  it("starts git on the host only for repositories Kiln wrote and no sandbox reaches", () => {
    const starts = hits(/(spawn|spawnSync|execFile|execFileSync|exec)\(\s*["'`]git["'`]/);
    expect(starts.map((hit) => hit.split(":")[0])).toEqual([
      // The seed of a template's first commit, made in a private temp directory.
      "server/src/templates/git.ts",
      // Tests' git host outside Kiln (http-backend on the test's own bare repositories in a temp directory).
      "server/src/testing/git-server.ts",
      // The worker's private bare clone.
      "server/src/worker/git.ts",
    ]);
    // …and those two are used only there.
    const importers = (module: string) =>
      files
        .filter(({ text }) => new RegExp(`import \\{[^}]*\\bgit\\b[^}]*\\} from "\\./${module}"`).test(text))
        .map(({ file }) => file);
    expect(importers("git.ts").sort()).toEqual([
      "server/src/templates/first-commit.ts",
      "server/src/worker/private-clone.ts",
    ]);
    expect(
      hits(/from "\.\.\/(templates|worker)\/git\.ts"/).filter((h) => /\bgit\b,|\{ git\b/.test(h)),
    ).toEqual([]);
  });

  it("never lets host git allow every transport", () => {
    expect(hits(/protocol\.allow["'`, ]+["'`]?always|protocol\.allow=always/)).toEqual([]);
  });
});
