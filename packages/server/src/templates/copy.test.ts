import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { copyTemplate, gitignoreFor, isCopied } from "./copy.ts";

describe("template copy", () => {
  it("skips dependencies, build outputs, VCS data, Kiln's caches and logs", () => {
    for (const p of ["index.html", "src/App.tsx", ".gitignore", "public/favicon.svg", "package-lock.json"]) {
      expect(isCopied(p), p).toBe(true);
    }
    for (const p of [
      "node_modules",
      "node_modules/vite/package.json",
      "src/node_modules/x",
      "dist/index.html",
      ".git/HEAD",
      ".kiln/vite/deps/react.js",
      "npm-debug.log",
      ".env",
    ]) {
      expect(isCopied(p), p).toBe(false);
    }
  });

  it("copies a template tree without the excluded parts", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "kiln-copy-"));
    const src = path.join(root, "tpl");
    for (const [file, body] of Object.entries({
      "index.html": "<h1>hi</h1>",
      "src/main.ts": "x",
      "node_modules/a/index.js": "a",
      "dist/out.js": "o",
      ".kiln/vite/deps.js": "d",
    })) {
      await mkdir(path.dirname(path.join(src, file)), { recursive: true });
      await writeFile(path.join(src, file), body);
    }
    const dest = path.join(root, "project");
    await mkdir(dest);
    await copyTemplate(src, dest);
    expect((await readdir(dest, { recursive: true })).sort()).toEqual(["index.html", "src", "src/main.ts"]);
    expect(await readFile(path.join(dest, "index.html"), "utf8")).toBe("<h1>hi</h1>");
  });

  it("writes Kiln's .gitignore plus the template's lines, once each", () => {
    const text = gitignoreFor({ name: "t", gitignore: ["dist/", "node_modules/"] } as never);
    const lines = text.split("\n");
    for (const line of ["node_modules/", ".kiln/", ".env", "dist/"]) expect(lines).toContain(line);
    expect(lines.filter((l) => l === "node_modules/")).toHaveLength(1);
    expect(text.endsWith("\n")).toBe(true);
  });
});
