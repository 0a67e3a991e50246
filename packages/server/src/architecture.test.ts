import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { findCycles, graphOf, listSources, readPackage, type SourceFile } from "./testing/import-graph.ts";

/**
 * One home per domain: folders depend on each other in one direction only, files never import each other
 * in a circle, and the packages keep their direction (protocol ← agent ← server; web sees only protocol).
 */
const packagesDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Tests drive the whole app from wherever they sit, so only the code they test makes up the graph. */
const isTest = (f: SourceFile) => /\.test\.tsx?$/.test(f.path);
const sources = (name: string) => readPackage(join(packagesDir, name, "src")).filter((f) => !isTest(f));
/** What ships: without the tests' helpers, which may bring test-only packages (the scripted fake provider). */
const shipped = (files: SourceFile[]) => files.filter((f) => !f.path.startsWith("testing/"));

/**
 * The unit a file belongs to: the first folder under src/ (`board/tasks/store.ts` → `board`), a file at the top
 * level stands alone (`kiln.ts`). In web, each `features/<noun>` is its own unit: features are the domains.
 */
function folderOf(path: string): string {
  const parts = path.split("/");
  if (parts.length === 1) return path;
  if (parts[0] === "features" && parts.length > 2) return `features/${parts[1]}`;
  return parts[0] as string;
}

const show = (cycles: string[][]) => cycles.map((c) => c.join(" → "));

function fileCycles(files: SourceFile[]) {
  return show(findCycles(graphOf(files, (p) => p)));
}

function folderCycles(files: SourceFile[]) {
  return show(findCycles(graphOf(files, folderOf)));
}

const workspacePackages = (files: SourceFile[]) =>
  new Set(files.flatMap((f) => f.packages.filter((p) => p.startsWith("@kiln/"))));

const escapes = (files: SourceFile[]) =>
  files.flatMap((f) => f.local.filter((target) => target.startsWith("../")).map((t) => `${f.path} → ${t}`));

describe("architecture", () => {
  const server = sources("server");
  const web = sources("web");

  it("reads the sources it checks", () => {
    expect(server.length).toBeGreaterThan(100);
    expect(web.length).toBeGreaterThan(50);
    const kiln = server.find((f) => f.path === "kiln.ts");
    expect(kiln?.local).toContain("app.ts");
    expect(server.find((f) => f.path === "app.ts")?.packages).toContain("@kiln/protocol");
  });

  it("has no file that imports itself through others, in server or web", () => {
    expect(fileCycles(server)).toEqual([]);
    expect(fileCycles(web)).toEqual([]);
  });

  it("has no folder cycle in server", () => {
    expect(folderCycles(server)).toEqual([]);
  });

  it("has no folder cycle in web", () => {
    expect(folderCycles(web)).toEqual([]);
  });

  it("has no file or folder cycle in agent, protocol and fake-provider either", () => {
    for (const name of ["agent", "protocol", "fake-provider"]) {
      const files = sources(name);
      expect(fileCycles(files), name).toEqual([]);
      expect(folderCycles(files), name).toEqual([]);
    }
  });

  it("keeps the package direction: protocol ← agent ← server, web sees only protocol", () => {
    const protocol = sources("protocol");
    const agent = sources("agent");
    expect([...workspacePackages(protocol)]).toEqual([]);
    expect([...workspacePackages(shipped(agent))]).toEqual(["@kiln/protocol"]);
    expect([...workspacePackages(shipped(web))]).toEqual(["@kiln/protocol"]);
    for (const name of ["protocol", "agent", "server", "web", "fake-provider"]) {
      expect([...workspacePackages(sources(name))], name).not.toContain("@kiln/server");
    }
    // A relative path out of src/ would go around the package boundary the names above guard.
    for (const files of [protocol, agent, server, web]) expect(escapes(files)).toEqual([]);
  });

  it("builds no API path by hand in the studio: every call goes through a route contract", () => {
    const webSrc = join(packagesDir, "web", "src");
    const handBuilt = listSources(webSrc)
      .filter((file) => !/\.test\.tsx?$/.test(file))
      .flatMap((file) =>
        readFileSync(file, "utf8")
          .split("\n")
          .map((line, i) => ({ where: `${relative(webSrc, file)}:${i + 1}`, line }))
          // A literal that starts an API path, in any quote: the contracts own every one.
          .filter(({ line }) => /["'`]\/api\//.test(line) && !line.trim().startsWith("//"))
          .map(({ where }) => where),
      );
    expect(handBuilt).toEqual([]);
    // The endpoint modules call contracts, never the untyped `http` helpers.
    const endpoints = web.filter((f) => f.path.startsWith("api/endpoints/"));
    expect(endpoints.length).toBeGreaterThan(10);
    for (const file of endpoints) expect(file.local, file.path).not.toContain("api/client.ts");
  });
});
