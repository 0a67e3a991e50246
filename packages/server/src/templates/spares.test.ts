import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type LoadedTemplate, TemplateRegistry } from "./registry.ts";
import { TemplateService } from "./service.ts";
import { SpareWorkspaces } from "./spares.ts";

async function setup(options: { refillDelayMs?: number } = {}) {
  const root = await mkdtemp(path.join(os.tmpdir(), "kiln-spares-"));
  const dir = path.join(root, "tpl");
  await mkdir(dir);
  await writeFile(path.join(dir, "index.html"), "<h1>hi</h1>");
  await writeFile(path.join(dir, "KILN.md"), "# t");
  const template: LoadedTemplate = {
    dir,
    manifest: {
      name: "plain",
      title: "Plain",
      description: "plain",
      dev: { argv: ["x"], env: {}, port: { env: "PORT", default: 3000 }, ready: { path: "/" } },
      readFirst: ["KILN.md"],
      gitignore: [],
    },
  };
  const templates = new TemplateService(new TemplateRegistry([template]), path.join(root, "cache"));
  const sparesDir = path.join(root, "orgs", ".spares");
  // What an earlier run left behind: made from templates that may have changed since.
  await mkdir(path.join(sparesDir, "stale"), { recursive: true });
  const spares = new SpareWorkspaces({
    root: sparesDir,
    templates,
    ownerOf: () => undefined,
    refillDelayMs: options.refillDelayMs ?? 60_000,
  });
  return { root, sparesDir, spares, templates, template };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("spare workspaces", () => {
  it("are made ahead of time, replace what an earlier run left, and are taken with their id", async () => {
    const { root, sparesDir, spares } = await setup();
    await spares.fill();
    expect(spares.count("plain")).toBe(1);
    const [name] = await readdir(sparesDir);
    expect(name).not.toBe("stale");
    // The files, .gitignore and the first commit are there: git never runs on it once a sandbox had it.
    expect((await readdir(path.join(sparesDir, name!))).sort()).toEqual([
      ".git",
      ".gitignore",
      "KILN.md",
      "index.html",
    ]);

    const spare = spares.claim("plain")!;
    expect(spare.id).toBe(name);
    expect(spares.count("plain")).toBe(0);
    expect(spares.claim("plain")).toBeUndefined();
    expect(spares.claim("unknown")).toBeUndefined();
    const project = path.join(root, "orgs", "org-1", "projects", spare.id);
    expect(await spares.adopt(spare, project)).toBe(true);
    expect(existsSync(path.join(project, ".git/HEAD"))).toBe(true);
    expect(await readdir(sparesDir)).toEqual([]);
    spares.close();
  });

  it("are made again a while after one is taken, and not after close", async () => {
    const { spares } = await setup({ refillDelayMs: 50 });
    await spares.fill();
    spares.claim("plain");
    const end = Date.now() + 5_000;
    while (spares.count("plain") === 0 && Date.now() < end) await sleep(20);
    expect(spares.count("plain")).toBe(1);
    spares.claim("plain");
    spares.close();
    await sleep(200);
    expect(spares.count("plain")).toBe(0);
  });

  it("are warmed when the template asks for it; a failed warm-up leaves a good spare; close aborts it", async () => {
    const { root, templates, template } = await setup();
    template.manifest.dev.prewarm = { paths: ["/"], until: ".kiln/done" };
    const warmed: string[] = [];
    let fail = true;
    const spares = new SpareWorkspaces({
      root: path.join(root, "orgs", ".spares"),
      templates,
      ownerOf: () => undefined,
      warm: async (spare, t, signal) => {
        expect(t.manifest.name).toBe("plain");
        expect(signal.aborted).toBe(false);
        warmed.push(spare.id);
        if (fail) throw new Error("the dev server would not start");
        return 1;
      },
    });
    await spares.fill();
    expect(warmed).toHaveLength(1);
    expect(spares.claim("plain")?.id).toBe(warmed[0]);
    fail = false;
    await spares.fill();
    expect(warmed).toHaveLength(2);
    expect(spares.count("plain")).toBe(1);

    // Closing while a warm-up runs aborts it, and its spare is not kept.
    let seen: AbortSignal | undefined;
    const closing = new SpareWorkspaces({
      root: path.join(root, "orgs", ".spares2"),
      templates,
      ownerOf: () => undefined,
      warm: async (_spare, _t, signal) => {
        seen = signal;
        closing.close();
        return 1;
      },
    });
    await closing.fill();
    expect(seen?.aborted).toBe(true);
    expect(closing.count("plain")).toBe(0);
    spares.close();
  });

  it("stop a warm-up under way when a project finds no spare ready; later ones wait out its start", async () => {
    const { root, templates, template } = await setup();
    template.manifest.dev.prewarm = { paths: ["/"], until: ".kiln/done" };
    const calls: Array<{ id: string; at: number }> = [];
    const spares = new SpareWorkspaces({
      root: path.join(root, "orgs", ".spares"),
      templates,
      ownerOf: () => undefined,
      quietAfterMissMs: 300,
      // The first warm-up runs until stopped, as a dev server does for seconds on a busy machine.
      warm: (spare, _t, signal) => {
        calls.push({ id: spare.id, at: performance.now() });
        if (calls.length > 1) return Promise.resolve(1);
        return new Promise((_resolve, reject) =>
          signal.addEventListener("abort", () => reject(signal.reason), { once: true }),
        );
      },
    });
    const filling = spares.fill();
    const end = Date.now() + 5_000;
    while (calls.length === 0 && Date.now() < end) await sleep(10);
    expect(calls).toHaveLength(1);
    // The project is made the ordinary way; its dev server gets the CPU the warm-up had.
    expect(spares.claim("plain")).toBeUndefined();
    await filling;
    // That spare is kept, unwarmed: ready at once for the next project.
    expect(calls).toHaveLength(1);
    expect(spares.claim("plain")?.id).toBe(calls[0]!.id);

    // A warm-up that would begin right after a miss waits for the project's start first.
    const missed = performance.now();
    expect(spares.claim("plain")).toBeUndefined();
    await spares.fill();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - missed).toBeGreaterThanOrEqual(290);
    expect(spares.count("plain")).toBe(1);
    spares.close();
  });

  it("say so when a spare is gone by the time it is taken, and a spare not used is removed", async () => {
    const { root, spares } = await setup();
    await spares.fill();
    const gone = spares.claim("plain")!;
    await rm(gone.dir, { recursive: true }); // another replica's start cleared it, say
    expect(await spares.adopt(gone, path.join(root, "orgs", "o", "projects", gone.id))).toBe(false);

    await spares.fill();
    const unused = spares.claim("plain")!;
    await spares.discard(unused);
    expect(existsSync(unused.dir)).toBe(false);
    spares.close();
  });
});
