import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { untilPreviewServes } from "../testing/preview.ts";

/**
 * Cookie tossing in a same-site deployment (studio on studio.example.test, previews on *.example.test, allowed
 * with KILN_ALLOW_SAME_SITE_PREVIEWS=1): an attacker's preview sets `kiln_*` cookies for `Domain=example.test`
 * with a longer path, the victim's browser sends them *before* its own, and a server that reads the first
 * cookie of a name runs the victim's studio in the attacker's session.
 */

const SAME_SITE = { KILN_APP_DOMAIN: "example.test", KILN_ALLOW_SAME_SITE_PREVIEWS: "1" };
const STUDIO_HOST = "studio.example.test:4000";

/** The `name=value` pairs and attributes of each Set-Cookie header. */
function setCookies(headers: Record<string, unknown>): Array<{ name: string; value: string; attrs: string }> {
  const raw = headers["set-cookie"];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  return list.map((line: string) => {
    const [pair, ...attrs] = line.split(";");
    const eq = pair!.indexOf("=");
    return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attrs: attrs.join(";").trim() };
  });
}

describe("over http, on one site", () => {
  let kiln: TestKiln;
  let port: number;
  let attacker: SignedUp;
  let victim: SignedUp;

  beforeAll(async () => {
    kiln = await startTestKiln({ env: { ...SAME_SITE, KILN_PUBLIC_URL: `http://${STUDIO_HOST}` } });
    await kiln.app.listen({ port: 0, host: "127.0.0.1" });
    port = (kiln.app.server.address() as AddressInfo).port;
    [attacker, victim] = await Promise.all([kiln.signup(), kiln.signup()]);
  }, 120_000);

  afterAll(() => kiln?.stop());

  it("refuses a request whose kiln_* cookies were doubled by a preview, and clears them", async () => {
    // The attacker's public preview answers with the attacker's own session cookies, scoped to the whole
    // site and to /api (more specific than the victim's Path=/, so the browser sends them first).
    const org = uniqueSlug("evil");
    expect((await attacker.client.post("/api/orgs", { name: "Evil", slug: org })).statusCode).toBe(201);
    const project = (
      await attacker.client.post(`/api/orgs/${org}/projects`, { name: "Toss", template: "node-api" })
    ).json().slug;
    const at = attacker.client.cookies.get("kiln_at")!.value;
    const csrf = attacker.client.csrf!;
    const server = [
      'import http from "node:http";',
      "http.createServer((req, res) => {",
      `  res.setHeader("set-cookie", ["kiln_at=${at}; Domain=example.test; Path=/api; HttpOnly",`,
      `    "kiln_csrf=${csrf}; Domain=example.test; Path=/api"]);`,
      '  res.end("Node API starter");',
      '}).listen(Number(process.env.PORT), process.env.HOST || "0.0.0.0");',
    ].join("\n");
    const write = await attacker.client.put(`/api/orgs/${org}/projects/${project}/files/content`, {
      path: "server.js",
      content: server,
    });
    expect(write.statusCode).toBe(200);
    await attacker.client.patch(`/api/orgs/${org}/projects/${project}`, { previewPublic: true });
    const host = `${project}--${org}.example.test:4000`;
    const page = await untilPreviewServes(port, host, undefined, "Node API starter", 90_000);
    const tossed = setCookies(page.headers).filter((c) => /Domain=example\.test/i.test(c.attrs));
    expect(tossed.map((c) => c.name).sort()).toEqual(["kiln_at", "kiln_csrf"]);

    // The victim's browser, back in the studio, sends the tossed cookies first (RFC 6265 §5.4: longer path).
    const own = {
      at: victim.client.cookies.get("kiln_at")!.value,
      csrf: victim.client.csrf!,
    };
    const cookie = `kiln_at=${at}; kiln_csrf=${csrf}; kiln_at=${own.at}; kiln_csrf=${own.csrf}`;
    const me = await kiln.app.inject({
      method: "GET",
      url: "/api/auth/me",
      headers: { host: STUDIO_HOST, cookie },
    });
    expect(me.statusCode, me.body).toBe(400);
    expect(me.json().error.code).toBe("duplicate_cookies");
    expect(me.json().error.details.cookies.sort()).toEqual(["kiln_at", "kiln_csrf"]);
    // Cleared where the attacker put them, and the victim's own, so the studio signs in afresh.
    const cleared = setCookies(me.headers).filter((c) => c.value === "");
    const has = (name: string, path: string, domain?: string) =>
      cleared.some(
        (c) =>
          c.name === name &&
          c.attrs.includes(`Path=${path}`) &&
          (domain ? c.attrs.includes(`Domain=${domain}`) : !/Domain=/i.test(c.attrs)),
      );
    for (const name of ["kiln_at", "kiln_csrf"]) {
      expect(has(name, "/api", "example.test"), name).toBe(true);
      expect(has(name, "/"), name).toBe(true);
    }

    // An unsafe request rides the attacker's pair the same way: refused too, nothing created.
    const create = await kiln.app.inject({
      method: "POST",
      url: "/api/orgs",
      headers: { host: STUDIO_HOST, cookie, "x-csrf-token": csrf },
      payload: { name: "Planted", slug: uniqueSlug("planted") },
    });
    expect(create.statusCode).toBe(400);
    expect(create.json().error.code).toBe("duplicate_cookies");
    expect(
      (await attacker.client.get("/api/orgs")).json().map((o: { name: string }) => o.name),
    ).not.toContain("Planted");
  }, 150_000);

  it("refuses doubled cookies with a 400 whatever the Host header says", async () => {
    for (const host of [
      "studio.example.test",
      "localhost:4000",
      "127.0.0.1:4000",
      "[::1]:4000",
      "a;b=c",
      "x y",
    ]) {
      const res = await kiln.app.inject({
        method: "GET",
        url: "/api/auth/me",
        headers: { host, cookie: "kiln_at=a; kiln_at=b" },
      });
      expect(res.statusCode, host).toBe(400);
      expect(res.json().error.code).toBe("duplicate_cookies");
    }
  });

  it("still serves a request with one cookie of each name", async () => {
    const me = await victim.client.get("/api/auth/me");
    expect(me.statusCode).toBe(200);
    expect(me.json().user.id).toBe(victim.user.id);
  });
});

describe("over https", () => {
  let kiln: TestKiln;

  beforeAll(async () => {
    kiln = await startTestKiln({ env: { ...SAME_SITE, KILN_PUBLIC_URL: "https://studio.example.test" } });
  }, 120_000);

  afterAll(() => kiln?.stop());

  it("keeps the session in __Host- cookies, which no other host can set, and ignores look-alikes", async () => {
    const attacker = await kiln.signup();
    const victim = await kiln.signup();
    const signup = await kiln.client().post("/api/auth/signup", {
      email: `${uniqueSlug("v")}@example.com`,
      password: "correct horse battery",
      name: "V",
    });
    const issued = setCookies(signup.headers);
    expect(issued.map((c) => c.name).sort()).toEqual([
      "__Host-kiln_at",
      "__Host-kiln_csrf",
      "__Host-kiln_rt",
    ]);
    for (const c of issued) {
      // What makes a browser keep a __Host- cookie at all: Secure, Path=/, no Domain.
      expect(c.attrs).toMatch(/(^|; )Path=\/(;|$)/);
      expect(c.attrs).toMatch(/(^|; )Secure(;|$)/);
      expect(c.attrs).not.toMatch(/Domain=/i);
    }

    // A preview of the site can only toss cookies without the prefix; the studio does not read them.
    const tossedAt = attacker.client.cookies.get("__Host-kiln_at")!.value;
    const tossedCsrf = attacker.client.csrf!;
    const own = victim.client.cookies.get("__Host-kiln_at")!.value;
    const me = await kiln.app.inject({
      method: "GET",
      url: "/api/auth/me",
      headers: {
        host: "studio.example.test",
        cookie: `kiln_at=${tossedAt}; kiln_csrf=${tossedCsrf}; __Host-kiln_at=${own}`,
      },
    });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json().user.id).toBe(victim.user.id);

    // The refresh cookie works at Path=/ too.
    const refreshed = await victim.client.post("/api/auth/refresh");
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    expect((await victim.client.post("/api/auth/logout")).statusCode).toBe(200);
    expect(victim.client.cookies.size).toBe(0);
  });
});
