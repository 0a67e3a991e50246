import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/free-port.ts";
import { startTestKiln, TEST_TEMPLATE_CACHE_DIR, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { DependencyCache } from "./dependency-cache.ts";
import { gitEnv } from "./git.ts";
import { devCommand, TemplateRegistry } from "./registry.ts";

let kiln: TestKiln;
beforeAll(async () => {
  kiln = await startTestKiln();
  // The first run on a machine installs the react-vite dependencies from the npm registry (≈5 s);
  // later runs and the other test files reuse the shared cache.
  await kiln.warmTemplateCaches();
}, 300_000);
afterAll(() => kiln?.stop());

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) killTree(child);
});

function gitOut(dir: string, args: string[]): string {
  // The project belongs to its sandbox user; this test reads it as root.
  return execFileSync("git", ["-c", "safe.directory=*", ...args], {
    cwd: dir,
    env: gitEnv(),
    encoding: "utf8",
  }).trim();
}

function killTree(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** GETs `url` until it answers 200 with `contains` in the body, or fails with the server's output. */
async function waitForPage(url: string, contains: string, output: () => string): Promise<string> {
  const deadline = Date.now() + 30_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      const body = await res.text();
      if (res.status === 200 && body.includes(contains)) return body;
      last = `${res.status} ${body.slice(0, 200)}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(100);
  }
  throw new Error(`${url} never answered with ${JSON.stringify(contains)}: ${last}\n${output()}`);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function createProject(org: string, template?: string) {
  const { client } = await kiln.signup();
  expect((await client.post("/api/orgs", { name: "Team", slug: org })).statusCode).toBe(201);
  const res = await client.post(`/api/orgs/${org}/projects`, {
    name: `From ${template ?? "default"}`,
    ...(template ? { template } : {}),
  });
  expect(res.statusCode, res.body).toBe(201);
  const project = res.json();
  return { client, project, dir: kiln.storage.projectDir(project.orgId, project.id) };
}

describe("templates", () => {
  it("lists templates to signed-in users only", async () => {
    expect((await kiln.client().get("/api/templates")).statusCode).toBe(401);
    const { client } = await kiln.signup();
    const res = await client.get("/api/templates");
    expect(res.statusCode).toBe(200);
    expect(res.json().map((t: { name: string }) => t.name)).toEqual(["node-api", "react-vite", "static"]);
    for (const t of res.json()) expect(Object.keys(t).sort()).toEqual(["description", "name", "title"]);
  });

  it("refuses an unknown template without creating anything", async () => {
    const { client } = await kiln.signup();
    const org = uniqueSlug("org");
    await client.post("/api/orgs", { name: "Team", slug: org });
    const res = await client.post(`/api/orgs/${org}/projects`, { name: "X", template: "cobol" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe("template_not_found");
    expect((await client.get(`/api/orgs/${org}/projects`)).json()).toEqual([]);
  });

  for (const name of ["react-vite", "static", "node-api"]) {
    it(`creates a ${name} project: files, one commit on main, dependencies, a dev server that answers`, async () => {
      // `kiln start` made a spare workspace of each template; the project takes it (and its id).
      expect(kiln.spares.count(name)).toBe(1);
      const { project, dir } = await createProject(
        uniqueSlug("org"),
        name === "react-vite" ? undefined : name,
      );
      expect(project.template).toBe(name);
      expect(kiln.spares.count(name)).toBe(0);
      const owner = kiln.driver.workspaceOwner(project.id);
      if (owner) {
        // The spare's files were made for this id's sandbox user, the repository too.
        for (const rel of [
          "",
          "kiln.json",
          ".git",
          ".git/HEAD",
          ...(name === "react-vite" ? ["node_modules"] : []),
        ])
          expect(statSync(path.join(dir, rel)).uid, rel).toBe(owner.uid);
      }
      const template = kiln.services.templates.get(name);
      const { manifest } = template;

      for (const file of ["kiln.json", "KILN.md", ".gitignore", ...manifest.readFirst]) {
        expect(existsSync(path.join(dir, file)), file).toBe(true);
      }
      expect(readFileSync(path.join(dir, ".gitignore"), "utf8")).toContain("node_modules/");

      expect(gitOut(dir, ["rev-parse", "--abbrev-ref", "HEAD"])).toBe("main");
      expect(gitOut(dir, ["log", "--format=%an <%ae>|%cn <%ce>"]).split("\n")).toEqual([
        "Kiln <kiln@localhost>|Kiln <kiln@localhost>",
      ]);
      expect(gitOut(dir, ["status", "--porcelain", "--untracked-files=all"])).toBe("");
      expect(gitOut(dir, ["ls-files"])).not.toMatch(/node_modules/);

      if (manifest.install) {
        // Resolvable from the project by the host's Node, and hard-linked to the shared cache.
        const resolved = execFileSync(process.execPath, ["-p", "require.resolve('vite/package.json')"], {
          cwd: dir,
          encoding: "utf8",
        }).trim();
        expect(resolved).toBe(path.join(dir, "node_modules/vite/package.json"));
        expect(statSync(resolved).nlink).toBeGreaterThan(1);
        // The starter type-checks as the agent will check it (`npx tsc --noEmit` in KILN.md).
        execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "--noEmit"], { cwd: dir });
      } else {
        expect(existsSync(path.join(dir, "node_modules"))).toBe(false);
      }

      // The dev command from the manifest, on the host (the sandbox wraps this same command).
      const port = await freePort();
      const command = devCommand(manifest, port);
      const child = spawn(command.argv[0]!, command.argv.slice(1), {
        cwd: dir,
        env: { ...process.env, ...command.env, HOST: "127.0.0.1" },
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      children.add(child);
      let output = "";
      child.stdout?.on("data", (c) => (output += c));
      child.stderr?.on("data", (c) => (output += c));
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitForPage(
          `${base}${manifest.dev.ready.path}`,
          manifest.dev.ready.contains ?? "",
          () => output,
        );
        if (name === "react-vite") {
          // Vite transforms the app and pre-bundles React into the project's own cache dir.
          await waitForPage(`${base}/src/App.tsx`, "Your app starts here", () => output);
          const main = await waitForPage(`${base}/src/main.tsx`, "react-dom", () => output);
          const dep = /from "(\/\.kiln\/vite\/deps\/react-dom_client\.js[^"]*)"/.exec(main)?.[1];
          expect(dep, main).toBeDefined();
          await waitForPage(`${base}${dep}`, "createRoot", () => output);
          expect(existsSync(path.join(dir, ".kiln/vite/deps"))).toBe(true);
          expect(gitOut(dir, ["status", "--porcelain"])).toBe("");
        }
        if (name === "node-api") {
          const hello = (await (await fetch(`${base}/api/hello?name=Kiln`)).json()) as { message: string };
          expect(hello.message).toBe("Hello, Kiln!");
        }
        if (name === "static") {
          const page = await waitForPage(`${base}/`, "/__kiln/live", () => output);
          expect(page).toContain("EventSource");
        }
      } finally {
        killTree(child);
        children.delete(child);
      }
    }, 60_000);
  }

  it("warms a react-vite spare in its sandbox: the project's dev server reuses its optimised dependencies", async () => {
    await kiln.spares.fill();
    expect(kiln.spares.count("react-vite")).toBe(1);
    const { client } = await kiln.signup();
    const org = uniqueSlug("org");
    await client.post("/api/orgs", { name: "Team", slug: org });
    const project = (
      await client.post(`/api/orgs/${org}/projects`, {
        name: "Warm",
        template: "react-vite",
        startDevServer: true,
      })
    ).json();
    const dir = kiln.storage.projectDir(project.orgId, project.id);
    const metadataFile = path.join(dir, ".kiln/vite/deps/_metadata.json");
    const before = JSON.parse(readFileSync(metadataFile, "utf8")) as { hash: string; browserHash: string };
    const owner = kiln.driver.workspaceOwner(project.id);
    if (owner) expect(statSync(metadataFile).uid).toBe(owner.uid);

    const ref = { orgId: project.orgId, projectId: project.id, name: project.name, template: "react-vite" };
    await until("the dev server", async () =>
      kiln.devServers.status(ref).state === "running" ? true : undefined,
    );
    const { host, port } = kiln.devServers.status(ref).target!;
    const main = await waitForPage(`http://${host}:${port}/src/main.tsx`, "react-dom", () => "");
    // The page imports the dependencies optimised while warming (same browser hash), not new ones.
    expect(main).toContain(`/.kiln/vite/deps/react-dom_client.js?v=${before.browserHash}`);
    await waitForPage(`http://${host}:${port}/src/App.tsx`, "Your app starts here", () => "");
    await sleep(500);
    const after = JSON.parse(readFileSync(metadataFile, "utf8")) as { hash: string; browserHash: string };
    expect(after).toMatchObject({ hash: before.hash, browserHash: before.browserHash });
  });

  it("removes a spare taken for a project that could not be created (slug taken)", async () => {
    const { client } = await kiln.signup();
    const org = uniqueSlug("org");
    await client.post("/api/orgs", { name: "Team", slug: org });
    expect((await client.post(`/api/orgs/${org}/projects`, { name: "A", slug: "taken" })).statusCode).toBe(
      201,
    );
    await kiln.spares.fill();
    const sparesDir = path.join(kiln.storage.root, ".spares");
    const before = readdirSync(sparesDir);
    expect(kiln.spares.count("react-vite")).toBe(1);
    const again = await client.post(`/api/orgs/${org}/projects`, { name: "B", slug: "taken" });
    expect([again.statusCode, again.json().error.code]).toEqual([409, "slug_taken"]);
    expect(kiln.spares.count("react-vite")).toBe(0);
    // The claimed spare's directory goes. (A refill an earlier claim scheduled may add a new one meanwhile.)
    const gone = () => before.filter((name) => !readdirSync(sparesDir).includes(name));
    await expect.poll(() => gone().length).toBe(1);
  });

  it("creates two projects at once from one template", async () => {
    const { client } = await kiln.signup();
    const org = uniqueSlug("org");
    await client.post("/api/orgs", { name: "Team", slug: org });
    const [a, b] = await Promise.all([
      client.post(`/api/orgs/${org}/projects`, { name: "One" }),
      client.post(`/api/orgs/${org}/projects`, { name: "Two" }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    for (const p of [a.json(), b.json()]) {
      const dir = kiln.storage.projectDir(p.orgId, p.id);
      expect(existsSync(path.join(dir, "node_modules/react/package.json"))).toBe(true);
      expect(gitOut(dir, ["rev-list", "--count", "HEAD"])).toBe("1");
    }
  });

  it("a fresh data dir links its first project from the install-time cache, installing nothing", async () => {
    // The shared test cache stands in for what `npm install` prepared; the new instance's own cache is empty.
    const local = path.join(kiln.dataDir, `fresh-cache-${uniqueSlug()}`);
    const fresh = await startTestKiln({
      env: { KILN_TEMPLATE_CACHE_DIR: local, KILN_INSTALLED_TEMPLATE_CACHE_DIR: TEST_TEMPLATE_CACHE_DIR },
    });
    try {
      const { client } = await fresh.signup();
      const org = uniqueSlug("org");
      await client.post("/api/orgs", { name: "Team", slug: org });
      const listed = await client.get("/api/templates");
      for (const t of listed.json()) expect(t).not.toHaveProperty("preparing");
      const res = await client.post(`/api/orgs/${org}/projects`, { name: "First" });
      expect(res.statusCode, res.body).toBe(201);
      const p = res.json();
      const file = "node_modules/react/package.json";
      const registry = await TemplateRegistry.load(fresh.config.templatesDir);
      const cache = new DependencyCache(local, undefined, { guestUid: fresh.driver.guestUid });
      const key = await cache.keyFor(registry.get("react-vite"));
      const dir = fresh.storage.projectDir(p.orgId, p.id);
      expect(statSync(path.join(dir, file)).ino).toBe(
        statSync(path.join(TEST_TEMPLATE_CACHE_DIR, key, file)).ino,
      );
      expect(existsSync(path.join(local, key))).toBe(false);
    } finally {
      await fresh.stop();
    }
  });
});
