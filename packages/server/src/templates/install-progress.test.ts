import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import type { LoadedTemplate } from "./registry.ts";
import { TemplateRegistry } from "./registry.ts";
import { TemplateService } from "./service.ts";

/** A stand-in for `npm ci` placing the lockfile's four packages (one scoped) one at a time, then a file. */
const SLOW_INSTALL = `
const fs = require("node:fs");
const names = ["a", "b", "@s/c", "d"];
let i = 0;
const next = () => {
  if (i === names.length) return;
  fs.mkdirSync("node_modules/" + names[i++], { recursive: true });
  setTimeout(next, 250);
};
next();
`;

const roots: string[] = [];
afterEach(async () => {
  for (const root of roots.splice(0)) await rm(root, { recursive: true, force: true });
});

it("reports how far a template's dependency install is while one is under way, and nothing after", async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), "kiln-progress-"));
  roots.push(root);
  const dir = path.join(root, "tpl");
  await mkdir(dir);
  await writeFile(path.join(dir, "package.json"), '{"name":"t"}');
  const packages = { "": {}, "node_modules/a": {}, "node_modules/b": {}, "node_modules/@s/c": {} };
  // Nested copies are not counted: they are placed inside their parent's folder.
  const lock = {
    lockfileVersion: 3,
    packages: { ...packages, "node_modules/d": {}, "node_modules/a/node_modules/b": {} },
  };
  await writeFile(path.join(dir, "package-lock.json"), JSON.stringify(lock));
  const template: LoadedTemplate = {
    dir,
    manifest: {
      name: "slow",
      title: "Slow",
      description: "slow",
      dev: { argv: ["x"], env: {}, port: { env: "PORT", default: 3000 }, ready: { path: "/" } },
      install: { argv: [process.execPath, "-e", SLOW_INSTALL], lockfile: "package-lock.json" },
      readFirst: ["KILN.md"],
      gitignore: [],
    },
  };
  const service = new TemplateService(new TemplateRegistry([template]), path.join(root, "cache"));
  expect(await service.listWithProgress()).toEqual([{ name: "slow", title: "Slow", description: "slow" }]);
  const ready = service.prepare(template);
  const seen: number[] = [];
  let done = false;
  void ready.then(() => (done = true));
  while (!done) {
    const [t] = await service.listWithProgress();
    if (!done && t?.preparing !== undefined && seen.at(-1) !== t.preparing) seen.push(t.preparing);
    await new Promise((r) => setTimeout(r, 20));
  }
  await ready;
  // Zero to three of four packages placed while npm runs (a quarter each); never 100 before the entry is in place.
  expect(seen.every((p) => [0, 25, 50, 75, 99].includes(p))).toBe(true);
  expect(seen.includes(25) && seen.includes(50) && seen.includes(75)).toBe(true);
  // It only moves forward: once installed it says 99 while the entry is put in place, never 0 again.
  expect(seen).toEqual([...seen].sort((a, b) => a - b));
  expect((await service.listWithProgress())[0]).not.toHaveProperty("preparing");
});
