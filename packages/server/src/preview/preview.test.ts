import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { parsePreviewHost, previewOrigin } from "./host.ts";
import { crashedPage, startingPage } from "./pages.ts";
import { proxyHttp, proxyUpgrade, stripCookies } from "./proxy.ts";

describe("preview hosts", () => {
  it("parses <project>--<org>.<domain> with or without a port", () => {
    expect(parsePreviewHost("habits--team.localhost:4000", "localhost")).toEqual({
      projectSlug: "habits",
      orgSlug: "team",
    });
    expect(parsePreviewHost("My-App--Acme.Kiln.Example.com", "kiln.example.com")).toEqual({
      projectSlug: "my-app",
      orgSlug: "acme",
    });
  });

  it("ignores the studio host and anything malformed", () => {
    for (const host of [
      undefined,
      "localhost:4000",
      "habits.localhost",
      "a--b--c.localhost",
      "--team.localhost",
      "habits--.localhost",
      "x.habits--team.localhost",
      "habits--team.evil.com",
      "habits--team.localhost.evil.com",
      "1abc--team.localhost",
      `${"a".repeat(400)}--b.localhost`,
    ]) {
      expect(parsePreviewHost(host, "localhost"), String(host)).toBeUndefined();
    }
  });

  it("builds the preview origin from the public URL", () => {
    const address = { projectSlug: "habits", orgSlug: "team" };
    expect(previewOrigin("http://localhost:4000", "localhost", address)).toBe(
      "http://habits--team.localhost:4000",
    );
    expect(previewOrigin("https://kiln.example.com", "kiln.example.com", address)).toBe(
      "https://habits--team.kiln.example.com",
    );
  });
});

describe("cookie stripping", () => {
  it("removes only the named cookies", () => {
    const hidden = new Set(["kiln_preview"]);
    expect(stripCookies("a=1; kiln_preview=secret; b=2", hidden)).toBe("a=1; b=2");
    expect(stripCookies("kiln_preview=secret", hidden)).toBeUndefined();
    expect(stripCookies(undefined, hidden)).toBeUndefined();
  });
});

describe("pages", () => {
  it("escapes project output and reloads while starting", () => {
    const html = startingPage("<b>x</b>", "installing", ["<script>alert(1)</script>"]);
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&#60;script&#62;");
    expect(html).toContain("location.reload()");
    expect(crashedPage("app", "exited with code 1", [])).not.toContain("location.reload()");
  });
});

describe("proxy", () => {
  // A stand-in dev server: echoes what it received and speaks WebSocket, like Vite's HMR endpoint.
  let target: http.Server;
  let wss: WebSocketServer;
  let front: http.Server;
  let frontPort: number;
  let targetPort = 0;

  beforeAll(async () => {
    target = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        res.setHeader("set-cookie", "app=1; Path=/");
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
      });
    });
    wss = new WebSocketServer({ server: target });
    wss.on("connection", (ws, req) => {
      ws.send(`hello ${req.headers.host} ${req.headers.cookie ?? "-"}`);
      ws.on("message", (m) => ws.send(`echo ${m}`));
    });
    await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
    targetPort = (target.address() as AddressInfo).port;

    const hidden = new Set(["kiln_preview"]);
    front = http.createServer((req, res) =>
      proxyHttp(
        req,
        res,
        { host: "127.0.0.1", port: Number(req.headers["x-test-port"] ?? targetPort) },
        {
          hiddenCookies: hidden,
          onError: () => {
            res.writeHead(503, { "content-type": "text/html" });
            res.end(startingPage("app", "starting", []));
          },
        },
      ),
    );
    front.on("upgrade", (req, socket, head) =>
      proxyUpgrade(req, socket, head, { host: "127.0.0.1", port: targetPort }, { hiddenCookies: hidden }),
    );
    await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
    frontPort = (front.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
    await new Promise((r) => front.close(r));
    await new Promise((r) => target.close(r));
  });

  function request(path: string, headers: Record<string, string>, body?: string) {
    return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>(
      (resolve, reject) => {
        const req = http.request({
          host: "127.0.0.1",
          port: frontPort,
          path,
          method: body ? "POST" : "GET",
          headers,
        });
        req.on("response", (res) => {
          let data = "";
          res.on("data", (c) => (data += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
        });
        req.on("error", reject);
        req.end(body);
      },
    );
  }

  it("forwards method, path, body and Host, and hides Kiln's preview cookie from the app", async () => {
    const res = await request(
      "/api/x?y=1",
      { host: "habits--team.localhost:4000", cookie: "kiln_preview=secret; theme=dark" },
      "payload",
    );
    expect(res.status).toBe(200);
    const seen = JSON.parse(res.body);
    expect(seen).toMatchObject({ method: "POST", url: "/api/x?y=1", body: "payload" });
    expect(seen.headers.host).toBe("habits--team.localhost:4000");
    expect(seen.headers.cookie).toBe("theme=dark");
    expect(seen.headers["x-forwarded-host"]).toBe("habits--team.localhost:4000");
    expect(res.headers["set-cookie"]).toEqual(["app=1; Path=/"]);
  });

  it("calls onError (a starting page) when the dev server is not listening", async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const res = await request("/", { host: "x--y.localhost", "x-test-port": String(port) });
    expect(res.status).toBe(503);
    expect(res.body).toContain("Starting app");
  });

  it("tunnels WebSocket upgrades both ways without the preview cookie", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${frontPort}/hmr`, {
      headers: { host: "habits--team.localhost:4000", cookie: "kiln_preview=secret; a=b" },
    });
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on("message", (m) => {
        messages.push(String(m));
        if (messages.length === 1) ws.send("ping");
        if (messages.length === 2) resolve();
      });
      ws.on("error", reject);
    });
    ws.close();
    expect(messages).toEqual(["hello habits--team.localhost:4000 a=b", "echo ping"]);
  });
});
