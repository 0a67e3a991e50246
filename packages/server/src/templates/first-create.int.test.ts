import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { startTestKiln, uniqueSlug } from "../testing/harness.ts";

/** `npm ci` as slow as a real one on a busy machine: four packages (one scoped), 300 ms apart; counts runs. */
const SLOW_INSTALL = `
const fs = require("node:fs");
fs.appendFileSync(process.env.KILN_TEST_RUNS, "run\\n");
const names = ["a", "b", "@s/c", "d"];
let i = 0;
const next = () => {
  if (i === names.length) return;
  fs.mkdirSync("node_modules/" + names[i++], { recursive: true });
  setTimeout(next, 300);
};
next();
`;

const roots: string[] = [];
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

it("a fresh instance's first create waits for the start's install (once) while the template list shows its progress", async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), "kiln-first-create-"));
  roots.push(root);
  const runs = path.join(root, "runs");
  process.env.KILN_TEST_RUNS = runs;
  const dir = path.join(root, "templates", "slow");
  await mkdir(dir, { recursive: true });
  const lock = {
    lockfileVersion: 3,
    packages: {
      "": {},
      "node_modules/a": {},
      "node_modules/b": {},
      "node_modules/@s/c": {},
      "node_modules/d": {},
    },
  };
  await writeFile(path.join(dir, "package-lock.json"), JSON.stringify(lock));
  await writeFile(path.join(dir, "package.json"), '{"name":"slow","private":true}');
  await writeFile(path.join(dir, "KILN.md"), "# slow\n");
  await writeFile(
    path.join(dir, "kiln.json"),
    JSON.stringify({
      name: "slow",
      title: "Slow",
      description: "A template whose dependencies take a while",
      dev: { argv: ["node", "-e", "0"], env: {}, port: { env: "PORT", default: 3000 }, ready: { path: "/" } },
      install: { argv: [process.execPath, "-e", SLOW_INSTALL], lockfile: "package-lock.json" },
      readFirst: ["KILN.md"],
    }),
  );
  const kiln = await startTestKiln({
    env: { KILN_TEMPLATES_DIR: path.dirname(dir), KILN_TEMPLATE_CACHE_DIR: path.join(root, "cache") },
  });
  try {
    const { client } = await kiln.signup();
    const org = uniqueSlug("org");
    await client.post("/api/orgs", { name: "Team", slug: org });
    // What `kiln start` does once it listens: the install runs in the background.
    const warming = kiln.warmTemplateCaches();
    let created = false;
    const creating = client
      .post(`/api/orgs/${org}/projects`, { name: "First", template: "slow" })
      .then((r) => {
        created = true;
        return r;
      });
    const seen: number[] = [];
    while (!created) {
      const [slow] = (await client.get("/api/templates")).json() as Array<{ preparing?: number }>;
      if (!created && slow?.preparing !== undefined && seen.at(-1) !== slow.preparing)
        seen.push(slow.preparing);
      await new Promise((r) => setTimeout(r, 25));
    }
    const res = await creating;
    expect(res.statusCode, res.body).toBe(201);
    // The studio saw it move (quarters of the four packages), and the create did not install again.
    expect(seen.length, JSON.stringify(seen)).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen.every((p) => p >= 0 && p <= 99)).toBe(true);
    expect((await readFile(runs, "utf8")).trim().split("\n")).toHaveLength(1);
    expect((await client.get("/api/templates")).json()[0]).not.toHaveProperty("preparing");
    await warming;
  } finally {
    await kiln.stop();
  }
});
