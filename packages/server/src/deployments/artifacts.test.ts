import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProjectRoot } from "../files/project-root.ts";
import { ArtifactStore } from "./artifacts.ts";

/** Capturing a build's output from a workspace its sandbox controls (the trust rule: attacked here). */

let work: string;
let project: string;
let store: ArtifactStore;
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

beforeEach(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "kiln-artifacts-"));
  project = path.join(work, "project");
  await mkdir(path.join(project, "dist", "assets"), { recursive: true });
  store = new ArtifactStore(path.join(work, "store"));
});
afterEach(() => rm(work, { recursive: true, force: true }));

async function capture(output = ["dist"], options: Partial<Parameters<ArtifactStore["capture"]>[2]> = {}) {
  const root = await ProjectRoot.open(project);
  const dir = await root.openDir(output);
  try {
    return await store.capture(root, dir, { spa: false, exclude: [], ...options });
  } finally {
    await dir.close();
  }
}

describe("ArtifactStore.capture", () => {
  it("stores each file once under its sha256, and lists them by path below the output", async () => {
    await writeFile(path.join(project, "dist", "index.html"), "<h1>hi</h1>");
    await writeFile(path.join(project, "dist", "assets", "a.js"), "same");
    await writeFile(path.join(project, "dist", "assets", "b.js"), "same");
    const got = await capture(["dist"], { spa: true });
    expect(got.manifest).toEqual({
      spa: true,
      files: {
        "assets/a.js": { digest: sha("same"), size: 4 },
        "assets/b.js": { digest: sha("same"), size: 4 },
        "index.html": { digest: sha("<h1>hi</h1>"), size: 11 },
      },
    });
    expect([got.files, got.bytes]).toEqual([3, 19]);
    expect(await readFile(store.blobPath(sha("same")), "utf8")).toBe("same");
    // A second capture of the same bytes reuses the blobs.
    expect((await capture()).manifest.files["index.html"]!.digest).toBe(sha("<h1>hi</h1>"));
  });

  it("publishes a server app's pruned dependencies as its node_modules, following no symlink there", async () => {
    await writeFile(path.join(project, "dist", "server.js"), "run");
    await mkdir(path.join(project, "dist", "node_modules", "dev-only"), { recursive: true });
    await writeFile(path.join(project, "dist", "node_modules", "dev-only", "index.js"), "dev");
    const pruned = path.join(project, "dist", "node_modules", ".kiln-production", "node_modules");
    await mkdir(path.join(pruned, "prod", "node_modules", "nested"), { recursive: true });
    await mkdir(path.join(pruned, ".bin"), { recursive: true });
    await writeFile(path.join(pruned, "prod", "index.js"), "prod");
    await writeFile(path.join(pruned, "prod", "node_modules", "nested", "index.js"), "nested");
    await symlink("/etc", path.join(pruned, "etc"));
    await symlink("/etc/passwd", path.join(pruned, "prod", "passwd.js"));
    await symlink("../prod/index.js", path.join(pruned, ".bin", "prod"));
    const root = await ProjectRoot.open(project);
    const [output, deps] = [
      await root.openDir(["dist"]),
      await root.openDir(["dist", "node_modules", ".kiln-production", "node_modules"]),
    ];
    try {
      const got = await store.capture(root, output, {
        spa: false,
        exclude: [],
        dependencies: true,
        dependenciesFrom: deps,
      });
      expect(Object.keys(got.manifest.files).sort()).toEqual([
        "node_modules/prod/index.js",
        "node_modules/prod/node_modules/nested/index.js",
        "server.js",
      ]);
      expect(got.skipped.sort()).toEqual([
        "node_modules/etc: a symlink (not published)",
        "node_modules/prod/passwd.js: a symlink (not published)",
      ]);
    } finally {
      await output.close();
      await deps.close();
    }
  });

  it("never follows a symlink, to the host or inside the project, and leaves out FIFOs", async () => {
    await writeFile(path.join(project, "dist", "index.html"), "home");
    await writeFile(path.join(project, "secret.txt"), "project secret");
    await symlink("/etc/shadow", path.join(project, "dist", "shadow.html"));
    await symlink("../secret.txt", path.join(project, "dist", "inside.txt"));
    await symlink("/etc", path.join(project, "dist", "etc"));
    execFileSync("mkfifo", [path.join(project, "dist", "pipe")]);
    const got = await capture();
    expect(Object.keys(got.manifest.files)).toEqual(["index.html"]);
    expect(got.skipped).toEqual([
      "etc: a symlink (not published)",
      "inside.txt: a symlink (not published)",
      "pipe: not a regular file",
      "shadow.html: a symlink (not published)",
    ]);
  });

  it("refuses an output directory that is a symlink", async () => {
    await rm(path.join(project, "dist"), { recursive: true });
    await symlink("/etc", path.join(project, "dist"));
    await expect(capture()).rejects.toThrow();
  });

  it("reads a hard-linked file without changing it", async () => {
    const outside = path.join(work, "outside.txt");
    await writeFile(outside, "shared bytes");
    await link(outside, path.join(project, "dist", "index.html"));
    const got = await capture();
    expect(got.manifest.files["index.html"]!.digest).toBe(sha("shared bytes"));
    expect(await readFile(outside, "utf8")).toBe("shared bytes");
  });

  it("leaves out dot-files, node_modules and the template's exclusions, at any depth", async () => {
    await writeFile(path.join(project, "dist", "index.html"), "x");
    await writeFile(path.join(project, "dist", ".env"), "SECRET=1");
    await mkdir(path.join(project, "dist", ".git"));
    await writeFile(path.join(project, "dist", ".git", "config"), "[core]");
    await mkdir(path.join(project, "dist", "node_modules", "x"), { recursive: true });
    await writeFile(path.join(project, "dist", "node_modules", "x", "i.js"), "x");
    await writeFile(path.join(project, "dist", "assets", "dev-server.mjs"), "x");
    const got = await capture(["dist"], { exclude: ["dev-server.mjs"] });
    expect(Object.keys(got.manifest.files)).toEqual(["index.html"]);
    // A server app keeps its dependencies; never the dot-files.
    const server = await capture(["dist"], { exclude: ["dev-server.mjs"], dependencies: true });
    expect(Object.keys(server.manifest.files)).toEqual(["index.html", "node_modules/x/i.js"]);
  });

  it("stops at its limits: too many files, too many bytes, one file too large", async () => {
    for (let i = 0; i < 5; i++) await writeFile(path.join(project, "dist", `f${i}.txt`), "12345");
    await expect(capture(["dist"], { limits: { files: 4 } })).rejects.toMatchObject({
      code: "payload_too_large",
    });
    await expect(capture(["dist"], { limits: { bytes: 20 } })).rejects.toMatchObject({
      code: "payload_too_large",
    });
    await expect(capture(["dist"], { limits: { fileBytes: 4 } })).rejects.toMatchObject({
      code: "payload_too_large",
    });
    expect((await capture()).files).toBe(5);
  });

  it("leaves out names a URL cannot reach safely, and leaves no temp files behind", async () => {
    await writeFile(path.join(project, "dist", "index.html"), "x");
    await writeFile(path.join(project, "dist", "a\\b.html"), "x");
    await writeFile(path.join(project, "dist", "new\nline.html"), "x");
    const got = await capture();
    expect(Object.keys(got.manifest.files)).toEqual(["index.html"]);
    expect(got.skipped).toHaveLength(2);
    expect(execFileSync("find", [path.join(work, "store", "tmp"), "-type", "f"]).toString()).toBe("");
  });
});
