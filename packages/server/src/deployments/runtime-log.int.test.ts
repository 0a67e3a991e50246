import type { AddressInfo } from "node:net";
import type { CreatedShareLink, Deployment, LogLine } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { previewGet } from "../testing/preview.ts";

/**
 * A published server app in its sandbox: what it prints and how it starts, crashes and restarts shows in the
 * deployment's runtime log, to its org only; a shared older deployment runs beside the live one.
 */

let kiln: TestKiln;
let owner: SignedUp;
let org: { id: string; slug: string };
let port: number;

beforeAll(async () => {
  kiln = await startTestKiln();
  owner = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Run", slug: uniqueSlug("run") })).json();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
}, 120_000);
afterAll(() => kiln?.stop());

async function newApi(user: SignedUp, orgSlug: string, greeting: string) {
  const res = await user.client.post(`/api/orgs/${orgSlug}/projects`, { name: "Api", template: "node-api" });
  expect(res.statusCode, res.body).toBe(201);
  const { id, slug } = res.json() as { id: string; slug: string };
  const api = `/api/orgs/${orgSlug}/projects/${slug}`;
  await writeApi(user, api, greeting);
  return { id, slug, api, host: `${slug}--${orgSlug}.apps.localhost` };
}

async function writeApi(user: SignedUp, api: string, greeting: string): Promise<void> {
  const res = await user.client.put(`${api}/files/content`, {
    path: "src/api.js",
    content: `import { sendJson } from "./http.js";
export async function handleApi(req, res, url) {
  if (url.pathname === "/api/health") return sendJson(res, 200, { ok: true });
  console.log("request for " + url.pathname);
  console.error("a warning about " + url.pathname);
  return sendJson(res, 200, { greeting: ${JSON.stringify(greeting)} });
}
`,
  });
  expect(res.statusCode, res.body).toBe(200);
}

async function publish(user: SignedUp, api: string): Promise<Deployment> {
  const res = await user.client.post(`${api}/deployments`);
  expect(res.statusCode, res.body).toBe(202);
  const id = (res.json() as Deployment).id;
  for (const until = Date.now() + 90_000; Date.now() < until; ) {
    const now = (await user.client.get(`${api}/deployments/${id}`)).json() as Deployment;
    if (now.status !== "building") {
      expect(now.status, now.error ?? "").toBe("ready");
      return now;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the build did not finish");
}

async function logUntil(url: string, text: string): Promise<LogLine[]> {
  let lines: LogLine[] = [];
  for (const until = Date.now() + 30_000; Date.now() < until; ) {
    const res = await owner.client.get(url);
    expect(res.statusCode, res.body).toBe(200);
    lines = res.json() as LogLine[];
    if (lines.some((l) => l.text.includes(text))) return lines;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no "${text}" in the runtime log: ${JSON.stringify(lines)}`);
}

describe("a published server app's runtime log", () => {
  it("shows its output, its start, and a crash and restart, to the org only", async () => {
    const p = await newApi(owner, org.slug, "hello");
    const d = await publish(owner, p.api);
    const logUrl = `${p.api}/deployments/${d.id}/runtime-log`;
    expect((await owner.client.get(logUrl)).json()).toEqual([]);

    const answer = await previewGet(port, p.host, "/api/hello");
    expect(JSON.parse(answer.body)).toEqual({ greeting: "hello" });
    const lines = await logUntil(logUrl, "request for /api/hello");
    const texts = lines.map((l) => `${l.stream}: ${l.text}`);
    expect(texts).toContain("system: starting: node server.js");
    expect(texts).toContain("system: up: /api/health answered");
    expect(texts.some((t) => /^stdout: API listening on/.test(t))).toBe(true);
    expect(texts).toContain("stdout: request for /api/hello");
    expect(
      (await logUntil(logUrl, "a warning about")).find((l) => l.text.includes("a warning"))?.stream,
    ).toBe("stderr");
    // Resuming after a line gives only the later ones.
    const last = lines.at(-1)!.seq;
    expect((await owner.client.get(`${logUrl}?since=${last}`)).json()).toEqual(
      (await owner.client.get(logUrl)).json().filter((l: LogLine) => l.seq > last),
    );

    const pid = kiln.services.siteProcesses.pidOf(p.id)!;
    process.kill(pid, "SIGKILL");
    const after = await logUntil(logUrl, "restarting in");
    expect(after.map((l) => l.text)).toContain("the server was killed (SIGKILL)");

    // Another org sees nothing of it: not by our path, not through its own project.
    const rival = await kiln.signup();
    const rivalOrg = (await rival.client.post("/api/orgs", { name: "R", slug: uniqueSlug("r") })).json();
    const outsider = await rival.client.get(logUrl);
    expect([outsider.statusCode, outsider.json().error.code]).toEqual([404, "org_not_found"]);
    const own = await rival.client.post(`/api/orgs/${rivalOrg.slug}/projects`, { name: "Mine" });
    const foreign = await rival.client.get(
      `/api/orgs/${rivalOrg.slug}/projects/${own.json().slug}/deployments/${d.id}/runtime-log`,
    );
    expect([foreign.statusCode, foreign.json().error.code]).toEqual([404, "deployment_not_found"]);
    for (const q of ["?since=-1", "?since=abc", "?since=1&x=2"])
      expect((await owner.client.get(`${logUrl}${q}`)).statusCode, q).toBe(400);
    expect((await owner.client.get(`${p.api}/deployments/not-a-uuid/runtime-log`)).statusCode).toBe(400);
  }, 180_000);

  it("runs a shared older deployment beside the live one, each with its own log", async () => {
    const p = await newApi(owner, org.slug, "first");
    const first = await publish(owner, p.api);
    await writeApi(owner, p.api, "second");
    const second = await publish(owner, p.api);
    const made = (
      await owner.client.post(`${p.api}/deployments/${first.id}/share-links`, {})
    ).json() as CreatedShareLink;
    const url = new URL(made.url);
    const landing = await previewGet(port, url.host, url.pathname);
    const cookie = landing.headers["set-cookie"]?.[0]?.split(";")[0];
    expect(cookie).toBeDefined();

    const old = await previewGet(port, url.host, "/api/which", cookie);
    expect([old.status, JSON.parse(old.body)]).toEqual([200, { greeting: "first" }]);
    const live = await previewGet(port, p.host, "/api/which");
    expect(JSON.parse(live.body)).toEqual({ greeting: "second" });
    // The live process was not replaced by the shared one's, nor the other way round.
    expect(JSON.parse((await previewGet(port, url.host, "/api/again", cookie)).body)).toEqual({
      greeting: "first",
    });
    await logUntil(`${p.api}/deployments/${first.id}/runtime-log`, "/api/again");
    const liveLog = await logUntil(`${p.api}/deployments/${second.id}/runtime-log`, "/api/which");
    expect(liveLog.map((l) => l.text)).not.toContain("request for /api/again");
  }, 180_000);
});
