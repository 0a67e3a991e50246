import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { lchown, readFile, symlink, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { Deployment } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { type PreviewAnswer, previewGet } from "../testing/preview.ts";
import { collectArtifacts } from "./collect.ts";

/**
 * Publishing through the API and the published host: a static project built, captured, served to anyone,
 * published again, rolled back at once; and what a hostile workspace can plant in its output.
 */

let kiln: TestKiln;
let owner: SignedUp;
let org: { id: string; slug: string };
let port: number;

beforeAll(async () => {
  kiln = await startTestKiln();
  owner = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Ship", slug: uniqueSlug("ship") })).json();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
}, 120_000);
afterAll(() => kiln?.stop());

/** A request to the published host, as a signed-out browser sends it (no cookie). */
function siteGet(
  host: string,
  pathname: string,
  headers: Record<string, string> = {},
): Promise<PreviewAnswer> {
  return previewGet(port, host, pathname, undefined, { headers });
}

async function newProject(template = "static") {
  const res = await owner.client.post(`/api/orgs/${org.slug}/projects`, { name: "Site", template });
  expect(res.statusCode, res.body).toBe(201);
  const { id, slug } = res.json() as { id: string; slug: string };
  const api = `/api/orgs/${org.slug}/projects/${slug}`;
  return {
    id,
    slug,
    api,
    dir: kiln.storage.projectDir(org.id, id),
    host: `${slug}--${org.slug}.apps.localhost`,
  };
}

async function write(api: string, file: string, content: string): Promise<void> {
  const res = await owner.client.put(`${api}/files/content`, { path: file, content, createParents: true });
  expect(res.statusCode, res.body).toBe(200);
}

async function publish(api: string): Promise<Deployment> {
  const res = await owner.client.post(`${api}/deployments`);
  expect(res.statusCode, res.body).toBe(202);
  const started = res.json() as Deployment;
  expect(started.status).toBe("building");
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    const now = (await owner.client.get(`${api}/deployments/${started.id}`)).json() as Deployment;
    if (now.status !== "building") return now;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the build did not finish");
}

describe("publishing a react-vite project", () => {
  it("builds it in its sandbox; hashed assets are cached for a year, pages not; client routes get index.html", async () => {
    const p = await newProject("react-vite");
    const d = await publish(p.api);
    const log = (await owner.client.get(`${p.api}/deployments/${d.id}/log`)).json().log as string;
    expect(d.status, log).toBe("ready");
    expect(log).toContain("$ npm run build");
    const page = await siteGet(p.host, "/");
    expect(page.status).toBe(200);
    expect(page.headers["cache-control"]).toBe("no-cache");
    expect(page.body).toContain('<div id="root"></div>');
    // Nothing of the dev server or the preview: no Vite client, no Kiln error reporter.
    expect(page.body).not.toContain("/@vite/client");
    expect(page.body).not.toContain("kiln");
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(page.body)?.[1];
    expect(script, page.body).toBeDefined();
    const asset = await siteGet(p.host, script!, { "accept-encoding": "br, gzip" });
    expect([asset.status, asset.headers["cache-control"], asset.headers["content-encoding"]]).toEqual([
      200,
      "public, max-age=31536000, immutable",
      "br",
    ]);
    const route = await siteGet(p.host, "/settings/profile", { accept: "text/html" });
    expect([route.status, route.body]).toEqual([200, page.body]);
    expect((await siteGet(p.host, "/assets/missing.js")).status).toBe(404);
  }, 120_000);
});

describe("publishing a node-api project", () => {
  it("runs it as a production server: its health path answers; killed, it is restarted", async () => {
    const p = await newProject("node-api");
    const d = await publish(p.api);
    expect(d.status, d.error ?? "").toBe("ready");
    const health = await siteGet(p.host, "/api/health");
    expect([health.status, health.body]).toEqual([200, '{"ok":true}']);
    const page = await siteGet(p.host, "/");
    expect([page.status, page.body.includes("Node API starter")]).toEqual([200, true]);

    const processes = kiln.services.siteProcesses;
    const pid = processes.pidOf(p.id);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, "SIGKILL");
    let back: PreviewAnswer | undefined;
    for (const until = Date.now() + 30_000; Date.now() < until; ) {
      back = await siteGet(p.host, "/api/health").catch(() => undefined);
      if (back?.status === 200 && processes.pidOf(p.id) !== pid) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(back?.status).toBe(200);
    expect(processes.pidOf(p.id)).not.toBe(pid);
  }, 120_000);

  it("runs with its production dependencies only, installed in its workspace", async () => {
    const p = await newProject("node-api");
    const pkg = JSON.parse(await readFile(path.join(p.dir, "package.json"), "utf8"));
    pkg.dependencies = { "tiny-greeting": "1.0.0" };
    pkg.devDependencies = { "dev-only": "1.0.0" };
    await write(p.api, "package.json", JSON.stringify(pkg, null, 2));
    for (const [name, body] of [
      ["tiny-greeting", "export const greet = (n) => 'howdy, ' + n;"],
      ["dev-only", "export const dev = true;"],
    ]) {
      await write(
        p.api,
        `node_modules/${name}/package.json`,
        `{"name":"${name}","version":"1.0.0","type":"module","main":"index.js"}`,
      );
      await write(p.api, `node_modules/${name}/index.js`, body!);
    }
    await write(
      p.api,
      "src/api.js",
      `import { greet } from "tiny-greeting";
import { sendJson } from "./http.js";
export async function handleApi(req, res, url) {
  if (url.pathname === "/api/health") return sendJson(res, 200, { ok: true });
  const dev = await import("dev-only").then(() => true, () => false);
  return sendJson(res, 200, { said: greet("Kiln"), dev });
}
`,
    );
    const d = await publish(p.api);
    const log = (await owner.client.get(`${p.api}/deployments/${d.id}/log`)).json().log as string;
    expect(d.status, log).toBe("ready");
    expect(log).toContain("$ npm prune --omit=dev");
    const answer = await siteGet(p.host, "/api/greet");
    const runtime = (await owner.client.get(`${p.api}/deployments/${d.id}/runtime-log`)).json();
    expect(answer.status, `${answer.body}\n${log}\n${JSON.stringify(runtime)}`).toBe(200);
    expect(JSON.parse((await siteGet(p.host, "/api/greet")).body)).toEqual({
      said: "howdy, Kiln",
      dev: false,
    });
    // The workspace keeps its whole tree for the dev server.
    expect(await readFile(path.join(p.dir, "node_modules/dev-only/index.js"), "utf8")).toContain("dev");
  }, 120_000);

  it("cannot change its published files from its own process, and gets no studio cookie", async () => {
    const p = await newProject("node-api");
    await write(
      p.api,
      "src/api.js",
      `import { writeFileSync } from "node:fs";
import { sendJson } from "./http.js";
export async function handleApi(req, res, url) {
  if (url.pathname === "/api/health") return sendJson(res, 200, { ok: true });
  const tries = {};
  for (const f of ["/workspace/server.js", "/workspace/src/api.js"]) {
    try { writeFileSync(f, "owned"); tries[f] = "written"; } catch (e) { tries[f] = e.code; }
  }
  return sendJson(res, 200, { tries, cookie: req.headers.cookie ?? null });
}
`,
    );
    const d = await publish(p.api);
    expect(d.status, d.error ?? "").toBe("ready");
    const tried = JSON.parse((await siteGet(p.host, "/api/try", { cookie: "kiln_at=stolen; mine=1" })).body);
    expect(tried).toEqual({
      tries: { "/workspace/server.js": "EACCES", "/workspace/src/api.js": "EACCES" },
      // A studio cookie sent to the app's host (it never should be) is not passed on.
      cookie: "mine=1",
    });
    expect((await siteGet(p.host, "/api/health")).status).toBe(200);
  }, 120_000);
});

describe("publishing a static project", () => {
  it("serves the build to anyone at its own host; publishing again and rolling back take effect at once", async () => {
    const p = await newProject();
    await write(p.api, "index.html", "<h1>version one</h1>");
    expect((await siteGet(p.host, "/")).status).toBe(404);

    const first = await publish(p.api);
    expect(first).toMatchObject({ number: 1, status: "ready", current: true, error: null });
    expect(first.files).toBeGreaterThan(0);
    expect(first.commit).toMatch(/^[0-9a-f]{40}$/);
    const one = await siteGet(p.host, "/");
    expect([one.status, one.body]).toEqual([200, "<h1>version one</h1>"]);
    expect(one.headers["set-cookie"]).toBeUndefined();
    // The template's own dev server script and Kiln's files are not part of the site.
    expect((await siteGet(p.host, "/dev-server.mjs")).status).toBe(404);
    expect((await siteGet(p.host, "/kiln.json")).status).toBe(404);

    await write(p.api, "index.html", "<h1>version two</h1>");
    const second = await publish(p.api);
    expect(second).toMatchObject({ number: 2, status: "ready", current: true });
    expect((await siteGet(p.host, "/")).body).toBe("<h1>version two</h1>");

    const rolledBack = await owner.client.post(`${p.api}/deployments/${first.id}/promote`);
    expect(rolledBack.statusCode, rolledBack.body).toBe(200);
    expect(rolledBack.json()).toMatchObject({ id: first.id, current: true });
    expect((await siteGet(p.host, "/")).body).toBe("<h1>version one</h1>");

    const list = (await owner.client.get(`${p.api}/deployments`)).json();
    expect(list.url).toBe(`http://${p.host}:4000`);
    expect(list.deployments.map((d: Deployment) => [d.number, d.current])).toEqual([
      [2, false],
      [1, true],
    ]);
    const log = (await owner.client.get(`${p.api}/deployments/${second.id}/log`)).json();
    expect(log.log).toContain("published");
  });

  it("leaves out what a hostile workspace plants: symlinks (to the host or inside), dot-files, FIFOs", async () => {
    const p = await newProject();
    await write(p.api, "index.html", "home");
    await write(p.api, "inside.html", "inside");
    await write(p.api, ".env", "SECRET=1");
    // Planted as the project's own code would: owned by its sandbox user.
    const uid = kiln.driver.workspaceOwner(p.id);
    const plant = async (make: () => Promise<void>, name: string) => {
      await make();
      if (uid) await lchown(path.join(p.dir, name), uid.uid, uid.gid).catch(() => {});
    };
    await plant(() => symlink("/etc/passwd", path.join(p.dir, "passwd.html")), "passwd.html");
    await plant(() => symlink("inside.html", path.join(p.dir, "alias.html")), "alias.html");
    await plant(async () => void execFileSync("mkfifo", [path.join(p.dir, "pipe.html")]), "pipe.html");
    await plant(() => writeFile(path.join(p.dir, ".git", "secret.html"), "git"), ".git/secret.html");

    const d = await publish(p.api);
    expect(d.status, d.error ?? "").toBe("ready");
    expect((await siteGet(p.host, "/inside.html")).body).toBe("inside");
    for (const planted of [
      "/passwd.html",
      "/alias.html",
      "/pipe.html",
      "/.env",
      "/.git/secret.html",
      "/.git/config",
    ])
      expect((await siteGet(p.host, planted)).status, planted).toBe(404);
    const log = (await owner.client.get(`${p.api}/deployments/${d.id}/log`)).json().log as string;
    expect(log).toContain("passwd.html: a symlink");
    expect(log).toContain("pipe.html: not a regular file");
  });

  it("answers clear errors: a second build at once, a build without index.html, a foreign or unknown id", async () => {
    const p = await newProject();
    await write(p.api, "index.html", "x");
    // A build in progress (one that takes a while: a static project's build is too quick to catch).
    const schema = (await kiln.services.orgs.row(org.id)).schemaName;
    const buildingId = randomUUID();
    await kiln.database.tenant(schema, (tx) =>
      tx.execute(
        sql`INSERT INTO deployments (id, project_id, number, status) VALUES (${buildingId}, ${p.id}, 1, 'building')`,
      ),
    );
    const second = await owner.client.post(`${p.api}/deployments`);
    expect([second.statusCode, second.json().error.code]).toEqual([409, "deployment_in_progress"]);
    const notReady = await owner.client.post(`${p.api}/deployments/${buildingId}/promote`);
    expect([notReady.statusCode, notReady.json().error.code]).toEqual([409, "deployment_not_ready"]);
    // One whose server stopped long ago does not block the next.
    await kiln.database.tenant(schema, (tx) =>
      tx.execute(sql`UPDATE deployments SET created_at = now() - interval '1 hour' WHERE id = ${buildingId}`),
    );
    expect(await publish(p.api)).toMatchObject({ number: 2, status: "ready" });
    const interrupted = (await owner.client.get(`${p.api}/deployments/${buildingId}`)).json();
    expect(interrupted).toMatchObject({ status: "failed", error: "the build was interrupted" });

    const empty = await newProject();
    expect((await owner.client.delete(`${empty.api}/files?path=index.html`)).statusCode).toBe(200);
    const failed = await publish(empty.api);
    expect(failed).toMatchObject({ status: "failed", current: false });
    expect(failed.error).toContain("index.html");

    const other = await newProject();
    const foreign = await owner.client.get(`${other.api}/deployments/${buildingId}`);
    expect([foreign.statusCode, foreign.json().error.code]).toEqual([404, "deployment_not_found"]);
    const garbage = await owner.client.get(`${other.api}/deployments/not-a-uuid`);
    expect(garbage.statusCode).toBe(400);
  });

  it("serves nothing for an unknown project or org, and no studio behind a published host", async () => {
    const p = await newProject();
    expect((await siteGet(`nope--${org.slug}.apps.localhost`, "/")).status).toBe(404);
    expect((await siteGet(`${p.slug}--nope-nope.apps.localhost`, "/")).status).toBe(404);
    const api = await siteGet(p.host, "/api/auth/me");
    expect(api.status).toBe(404);
    expect(api.headers["content-type"]).not.toContain("application/json");
  });
});

describe("collecting unused artifacts", () => {
  it("removes the blobs and run directories only deleted projects used; the rest keeps serving", async () => {
    const kept = await newProject();
    await write(kept.api, "index.html", "kept site");
    const gone = await newProject("node-api");
    await write(gone.api, "public/only-here.txt", `unique ${randomUUID()}`);
    expect((await publish(kept.api)).status).toBe("ready");
    const goneDeployment = await publish(gone.api);
    expect((await siteGet(gone.host, "/api/health")).status).toBe(200); // its run directory exists
    const store = path.join(kiln.dataDir, "artifacts");
    const blobs = () =>
      execFileSync("find", [path.join(store, "blobs"), "-type", "f"])
        .toString()
        .split("\n")
        .filter(Boolean);
    const before = blobs();
    expect(execFileSync("ls", [path.join(store, "run")]).toString()).toContain(goneDeployment.id);

    // Nothing is unused yet (the grace period aside).
    expect(await collectArtifacts(kiln.database, { root: store }, 0)).toBeUndefined();
    expect((await owner.client.delete(`/api/orgs/${org.slug}/projects/${gone.slug}`)).statusCode).toBe(200);
    const done = await collectArtifacts(kiln.database, { root: store }, 0);
    expect(done?.blobs).toBeGreaterThan(0);
    expect(done?.runDirs).toBe(1);
    expect(blobs().length).toBe(before.length - done!.blobs);
    expect(execFileSync("ls", [path.join(store, "run")]).toString()).not.toContain(goneDeployment.id);
    expect((await siteGet(kept.host, "/")).body).toBe("kept site");
  }, 120_000);
});
