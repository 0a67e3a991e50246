import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let org: string;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request to a preview host over real HTTP: connect to loopback, send the preview Host header. */
function previewGet(host: string, path: string, cookie?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: "127.0.0.1", port, path, headers: { host, ...(cookie ? { cookie } : {}) } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
  });
}

async function untilServed(
  host: string,
  cookie: string | undefined,
  contains: string,
  ms = 60_000,
): Promise<Answer> {
  const end = Date.now() + ms;
  let last: Answer | undefined;
  while (Date.now() < end) {
    last = await previewGet(host, "/", cookie);
    if (last.status === 200 && last.body.includes(contains)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(
    `preview never served "${contains}"; last answer ${last?.status}: ${last?.body.slice(0, 500)}`,
  );
}

/** Signs a browser in to the preview origin the way the studio does: hand-off link → cookie. */
async function previewCookie(
  client: SignedUp["client"],
  project: string,
): Promise<{ host: string; cookie: string }> {
  const res = await client.post(`/api/orgs/${org}/projects/${project}/preview-session`);
  expect(res.statusCode).toBe(200);
  const url = new URL(res.json().url);
  const answer = await previewGet(url.host, url.pathname + url.search);
  expect(answer.status).toBe(302);
  const setCookie = answer.headers["set-cookie"]![0]!;
  expect(setCookie).toMatch(/^kiln_preview=[^;]+; Path=\/; HttpOnly; SameSite=Lax/);
  return { host: url.host, cookie: setCookie.split(";")[0]! };
}

beforeAll(async () => {
  kiln = await startTestKiln();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
  owner = await kiln.signup();
  org = uniqueSlug("org");
  expect((await owner.client.post("/api/orgs", { name: "Preview", slug: org })).statusCode).toBe(201);
}, 120_000);

afterAll(() => kiln?.stop());

describe("live preview through the sandbox", () => {
  it("serves a static project privately, reflects file edits, and wakes after a stop", async () => {
    const created = await owner.client.post(`/api/orgs/${org}/projects`, {
      name: "Site",
      template: "static",
    });
    expect(created.statusCode).toBe(201);
    const slug = created.json().slug;
    const host = `${slug}--${org}.localhost:4000`;

    // Private by default: no cookie, no page — and nothing is started for an anonymous visitor.
    const anonymous = await previewGet(host, "/");
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toContain("This preview is private");

    const { cookie } = await previewCookie(owner.client, slug);
    const first = await previewGet(host, "/", cookie);
    expect([200, 503]).toContain(first.status);
    if (first.status === 503) expect(first.body).toContain("Starting Site");
    const page = await untilServed(host, cookie, "Hello, static web");
    expect(page.headers["set-cookie"]).toBeUndefined();

    const status = (await owner.client.get(`/api/orgs/${org}/projects/${slug}/runtime`)).json();
    expect(status).toMatchObject({ state: "running", previewUrl: `http://${slug}--${org}.localhost:4000` });
    const logs = await owner.client.get(`/api/orgs/${org}/projects/${slug}/runtime/logs`);
    expect(logs.statusCode).toBe(200);
    expect(logs.json().some((l: { stream: string }) => l.stream === "system")).toBe(true);

    const html = (
      await owner.client.get(`/api/orgs/${org}/projects/${slug}/files/content?path=index.html`)
    ).json();
    const edited = html.content.replace("Hello, static web", "Edited through the file API");
    const write = await owner.client.put(`/api/orgs/${org}/projects/${slug}/files/content`, {
      path: "index.html",
      content: edited,
    });
    expect(write.statusCode).toBe(200);
    await untilServed(host, cookie, "Edited through the file API", 10_000);

    const stopped = await owner.client.post(`/api/orgs/${org}/projects/${slug}/runtime/stop`);
    expect(stopped.json().state).toBe("stopped");
    // The next visit wakes it: a starting page first (never a blank frame), then the site again.
    await untilServed(host, cookie, "Edited through the file API");
  }, 120_000);

  it("keeps other users out, even with their own preview cookie, until the project is made public", async () => {
    const slug = (
      await owner.client.post(`/api/orgs/${org}/projects`, { name: "Api", template: "node-api" })
    ).json().slug;
    const host = `${slug}--${org}.localhost:4000`;

    const stranger = await kiln.signup();
    const strangerOrg = uniqueSlug("org");
    await stranger.client.post("/api/orgs", { name: "Other", slug: strangerOrg });
    const theirs = (
      await stranger.client.post(`/api/orgs/${strangerOrg}/projects`, { name: "Mine", template: "static" })
    ).json().slug;
    const res = await stranger.client.post(`/api/orgs/${strangerOrg}/projects/${theirs}/preview-session`);
    const url = new URL(res.json().url);
    const signedIn = await previewGet(url.host, url.pathname + url.search);
    const strangerCookie = signedIn.headers["set-cookie"]![0]!.split(";")[0]!;
    // A cookie for one project opens only that project.
    expect((await previewGet(host, "/", strangerCookie)).status).toBe(401);
    // A hand-off token for one project cannot be exchanged on another project's origin.
    expect((await previewGet(host, url.pathname + url.search)).status).toBe(401);
    // Nor can the stranger ask for a hand-off link to our project.
    expect((await stranger.client.post(`/api/orgs/${org}/projects/${slug}/preview-session`)).statusCode).toBe(
      404,
    );

    const patched = await owner.client.patch(`/api/orgs/${org}/projects/${slug}`, { previewPublic: true });
    expect(patched.json().previewPublic).toBe(true);
    await untilServed(host, undefined, "<");
  }, 120_000);

  it("signs the studio's cross-site iframe in with a partitioned cookie that opens the preview on its own", async () => {
    const slug = (
      await owner.client.post(`/api/orgs/${org}/projects`, { name: "Framed", template: "static" })
    ).json().slug;
    const res = await owner.client.post(`/api/orgs/${org}/projects/${slug}/preview-session`);
    const url = new URL(res.json().url);
    const answer = await previewGet(url.host, url.pathname + url.search);
    const embed = answer.headers["set-cookie"]!.find((c) => c.startsWith("kiln_preview_embed="));
    expect(embed).toMatch(/; HttpOnly; SameSite=None; Secure; Partitioned; Max-Age=\d+$/);
    await untilServed(url.host, embed!.split(";")[0]!, "<");
    // Like the Lax cookie, it is a signed session, not a flag: a forged one opens nothing.
    expect((await previewGet(url.host, "/", "kiln_preview_embed=forged")).status).toBe(401);
  }, 120_000);

  it("stops serving a deleted project at once, cached host lookups notwithstanding", async () => {
    const slug = (
      await owner.client.post(`/api/orgs/${org}/projects`, { name: "Gone", template: "static" })
    ).json().slug;
    const host = `${slug}--${org}.localhost:4000`;
    const { cookie } = await previewCookie(owner.client, slug);
    await untilServed(host, cookie, "Hello, static web");
    expect((await owner.client.delete(`/api/orgs/${org}/projects/${slug}`)).statusCode).toBe(200);
    const after = await previewGet(host, "/", cookie);
    expect(after.status).toBe(404);
    expect(after.body).toContain("Preview not found");
  }, 120_000);

  it("answers unknown preview hosts with a page, not the studio", async () => {
    const res = await previewGet(`nope--${org}.localhost:4000`, "/");
    expect(res.status).toBe(404);
    expect(res.body).toContain("Preview not found");
    const open = await previewGet(`x--y.localhost:4000`, "/__kiln/auth?token=garbage&next=//evil.com");
    expect(open.status).toBe(404);
  });

  it("proxies Vite's HMR WebSocket and pushes an update when a file changes", async () => {
    const slug = (
      await owner.client.post(`/api/orgs/${org}/projects`, { name: "App", template: "react-vite" })
    ).json().slug;
    const host = `${slug}--${org}.localhost:4000`;
    const { cookie } = await previewCookie(owner.client, slug);
    await untilServed(host, cookie, '<div id="root"></div>', 90_000);
    // Load the module once, as the browser would, so Vite tracks it in its module graph.
    const app = await previewGet(host, "/src/App.tsx", cookie);
    expect(app.status).toBe(200);

    // Vite only accepts HMR sockets carrying the token its client script was served with.
    const client = await previewGet(host, "/@vite/client", cookie);
    const token = /const wsToken = "([^"]+)"/.exec(client.body)?.[1];
    expect(token, client.body.slice(0, 300)).toBeDefined();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/?token=${token}`, "vite-hmr", {
      headers: { host, cookie },
    });
    const messages: Array<{ type: string; updates?: Array<{ path: string }> }> = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("message", (m) => {
        const msg = JSON.parse(String(m));
        messages.push(msg);
        if (msg.type === "connected") resolve();
      });
      ws.on("error", reject);
    });
    const source = (
      await owner.client.get(`/api/orgs/${org}/projects/${slug}/files/content?path=src/App.tsx`)
    ).json();
    await owner.client.put(`/api/orgs/${org}/projects/${slug}/files/content`, {
      path: "src/App.tsx",
      content: source.content.replace("Your app starts here", "Changed by HMR"),
    });
    const end = Date.now() + 20_000;
    while (!messages.some((m) => m.type === "update" || m.type === "full-reload") && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
    }
    ws.close();
    const update = messages.find((m) => m.type === "update" || m.type === "full-reload");
    expect(update, JSON.stringify(messages)).toBeDefined();
    const served = await previewGet(host, "/src/App.tsx", cookie);
    expect(served.body).toContain("Changed by HMR");
  }, 150_000);
});
