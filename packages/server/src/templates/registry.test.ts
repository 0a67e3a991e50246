import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";
import { devCommand, loadTemplate, TemplateRegistry } from "./registry.ts";

const templatesDir = loadConfig({}).templatesDir;

describe("template registry", () => {
  it("loads and validates the real templates", async () => {
    const registry = await TemplateRegistry.load(templatesDir);
    expect(registry.list().map((t) => t.name)).toEqual(["node-api", "react-vite", "static"]);
    for (const t of registry.all()) {
      expect(t.manifest.readFirst[0]).toBe("KILN.md");
      expect(t.manifest.title.length).toBeGreaterThan(0);
      // Every dev server must be reachable from outside its sandbox and told its port.
      expect(devCommand(t.manifest, 4321).env).toMatchObject({ HOST: "0.0.0.0", PORT: "4321" });
    }
    expect(registry.get("react-vite").manifest.install?.lockfile).toBe("package-lock.json");
    expect(registry.get("static").manifest.install).toBeUndefined();
    expect(() => registry.get("nope")).toThrow(
      expect.objectContaining({ code: "template_not_found", status: 400 }),
    );
  });

  it("passes the port as a flag when the manifest says so", () => {
    const manifest = {
      name: "x",
      title: "X",
      description: "x",
      dev: { argv: ["serve"], env: {}, port: { flag: "--port", default: 8080 }, ready: { path: "/" } },
      readFirst: ["KILN.md"],
      gitignore: [],
    };
    expect(devCommand(manifest)).toEqual({ argv: ["serve", "--port", "8080"], env: {} });
  });

  it("refuses broken manifests with the file and the problem", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "kiln-templates-"));
    const write = async (name: string, manifest: unknown, files: string[] = []) => {
      await mkdir(path.join(root, name));
      await writeFile(path.join(root, name, "kiln.json"), JSON.stringify(manifest));
      for (const f of files) await writeFile(path.join(root, name, f), "");
      return path.join(root, name);
    };
    const good = {
      name: "ok",
      title: "OK",
      description: "fine",
      dev: { argv: ["node", "x.js"], port: { env: "PORT", default: 3000 }, ready: { path: "/" } },
      readFirst: ["KILN.md"],
    };
    await expect(loadTemplate(await write("ok", good, ["KILN.md"]))).resolves.toBeDefined();
    await expect(loadTemplate(await write("other", good, ["KILN.md"]))).rejects.toThrow(
      /differs from its folder/,
    );
    await expect(loadTemplate(await write("missing", { ...good, name: "missing" }))).rejects.toThrow(
      /KILN.md does not exist/,
    );
    await expect(
      loadTemplate(await write("climb", { ...good, name: "climb", readFirst: ["../secret"] })),
    ).rejects.toThrow(/readFirst/);
    await expect(
      loadTemplate(
        await write("noport", { ...good, name: "noport", dev: { ...good.dev, port: { default: 1 } } }, [
          "KILN.md",
        ]),
      ),
    ).rejects.toThrow(/port needs/);
    await expect(
      loadTemplate(await write("extra", { ...good, name: "extra", surprise: true }, ["KILN.md"])),
    ).rejects.toThrow(/surprise/);
    // The compile cache is shared through the dependency cache: it must live in node_modules, no climbing.
    for (const [name, compileCache] of [
      ["outside", "src/.cache"],
      ["climbing", "node_modules/../../etc"],
      ["absolute", "/tmp/cache"],
    ] as const) {
      const install = { argv: ["npm", "ci"], lockfile: "package-lock.json", compileCache };
      await expect(
        loadTemplate(
          await write(name, { ...good, name, install }, ["KILN.md", "package.json", "package-lock.json"]),
        ),
      ).rejects.toThrow(/install.compileCache/);
    }
  });
});
