import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AddressPolicy, type ResolvedAddress } from "../net/address-policy.ts";
import { toolHarness } from "../testing/harness.ts";
import { htmlToText } from "./html-to-text.ts";
import { createWebFetchTool } from "./web-fetch.ts";

let server: Server;
let port: number;
let hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.headers.host}${req.url}`);
    if (req.url === "/page") {
      res.setHeader("content-type", "text/html; charset=utf-8");
      res.end(
        "<!doctype html><html><head><title>Docs</title><style>p{color:red}</style></head><body><h1>Install</h1><p>Run <code>npm i</code> &amp; go.</p><script>alert(1)</script><ul><li>one</li><li>two</li></ul></body></html>",
      );
    } else if (req.url === "/json") {
      res.setHeader("content-type", "application/json");
      res.end('{"a":1}');
    } else if (req.url === "/big") {
      res.setHeader("content-type", "text/plain");
      res.end("x".repeat(100_000));
    } else if (req.url === "/hang") {
      // never answers
    } else if (req.url?.startsWith("/redirect?to=")) {
      res.statusCode = 302;
      res.setHeader("location", decodeURIComponent(req.url.slice("/redirect?to=".length)));
      res.end();
    } else {
      res.statusCode = 404;
      res.end("not found");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
beforeEach(() => {
  hits = [];
});

/** Names a test may use: "docs.test" is the local server standing in for a public host. */
const names: Record<string, string> = {
  "docs.test": "127.0.0.1",
  "intranet.test": "10.1.2.3",
  "meta.test": "169.254.169.254",
};
const lookup = async (host: string): Promise<ResolvedAddress[]> => {
  const address = names[host];
  if (!address) throw new Error("ENOTFOUND");
  return [{ address, family: 4 }];
};
/** The real rule, with the test server's loopback address and port exempted as an operator would. */
const allowTestServer = (resolve: (host: string) => Promise<ResolvedAddress[]> = lookup) =>
  new AddressPolicy({ resolve, allow: [{ kind: "host", host: "127.0.0.1", port }] });

async function fetchWith(url: string, options: Parameters<typeof createWebFetchTool>[0] = {}) {
  return toolHarness({} as never).call(createWebFetchTool(options), { url });
}

describe("web_fetch refuses internal addresses (SSRF)", () => {
  it.each([
    () => `http://127.0.0.1:${port}/page`,
    () => `http://localhost:${port}/page`,
    () => `http://[::1]:${port}/page`,
    () => `http://[::ffff:127.0.0.1]:${port}/page`,
    () => `http://[::ffff:7f00:1]:${port}/page`,
    () => `http://0x7f000001:${port}/page`,
    () => `http://2130706433:${port}/page`,
    () => `http://0177.0.0.1:${port}/page`,
    () => `http://0.0.0.0:${port}/page`,
    () => "http://169.254.169.254/latest/meta-data/",
    () => "http://[fd00:ec2::254]/latest/meta-data/",
    () => "http://10.0.0.1/",
    () => "http://192.168.1.1/",
    () => "http://172.16.5.4/",
    () => "http://100.64.0.1/",
    () => "http://[fe80::1]/",
    () => "http://[64:ff9b::7f00:1]/",
    () => "http://[2002:7f00:1::]/",
  ])("refuses %#", async (url) => {
    const result = await fetchWith(url());
    expect(result.isError).toBe(true);
    expect(result.output).toMatch(/^Refused: /);
    expect(hits).toEqual([]);
  });

  it("refuses every address of this host's interfaces, with a server listening on each", async () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i && !(i.family === "IPv6" && i.address.startsWith("fe80:")))
      .map((i) => i!.address);
    const servers = await Promise.all(
      own.map(async (address) => {
        const hit: string[] = [];
        const s = createServer((req, res) => {
          hit.push(req.url ?? "");
          res.end("internal");
        });
        await new Promise<void>((resolve) => s.listen(0, address, resolve));
        const host = address.includes(":") ? `[${address}]` : address;
        return { s, hit, url: `http://${host}:${(s.address() as AddressInfo).port}/` };
      }),
    );
    try {
      for (const { url } of servers) expect((await fetchWith(url)).output, url).toMatch(/^Refused: /);
      expect(servers.flatMap((x) => x.hit)).toEqual([]);
    } finally {
      for (const { s } of servers) s.close();
    }
  });

  it.each([
    "file:///etc/passwd",
    "ftp://example.com/",
    "gopher://x/",
    "javascript:alert(1)",
    "data:text/plain,hi",
  ])("refuses the scheme of %s", async (url) => {
    const result = await fetchWith(url);
    expect(result.output).toMatch(/^Refused: only http and https/);
  });

  it("refuses a name that resolves to a private address", async () => {
    const result = await fetchWith("http://intranet.test/", {
      policy: new AddressPolicy({ resolve: lookup }),
    });
    expect(result.output).toBe(
      "Refused: intranet.test resolves to 10.1.2.3, a private, loopback, link-local or otherwise internal address; only public addresses can be fetched.",
    );
  });

  it("checks every redirect hop", async () => {
    for (const target of [
      "http://169.254.169.254/latest/meta-data/",
      "http://meta.test/",
      `http://[::1]:${port}/page`,
      `http://[::ffff:127.0.0.1]:${port + 1}/page`,
    ]) {
      hits = [];
      const url = `http://docs.test:${port}/redirect?to=${encodeURIComponent(target)}`;
      const result = await fetchWith(url, { policy: allowTestServer() });
      expect(result.output).toMatch(/^Refused: /);
      expect(hits).toHaveLength(1);
    }
  });

  it("connects to the address it checked, not to a second DNS answer (rebinding)", async () => {
    const answers = ["127.0.0.1", "10.0.0.1"];
    let calls = 0;
    const rebinding = async (): Promise<ResolvedAddress[]> => [
      { address: answers[Math.min(calls++, 1)]!, family: 4 },
    ];
    const result = await fetchWith(`http://docs.test:${port}/json`, { policy: allowTestServer(rebinding) });
    expect(result.isError).toBe(false);
    expect(calls).toBe(1);
    expect(hits).toEqual([`docs.test:${port}/json`]);
  });
});

describe("web_fetch reading pages", () => {
  const options = () => ({ policy: allowTestServer() });

  it("turns HTML into text", async () => {
    const result = await fetchWith(`http://docs.test:${port}/page`, options());
    expect(result.output).toBe(
      `URL: http://docs.test:${port}/page\nStatus: 200\nContent-Type: text/html; charset=utf-8\n\nDocs\n\n# Install\n\nRun npm i & go.\n\n- one\n- two`,
    );
  });

  it("follows redirects, pretty-prints JSON, reports HTTP errors", async () => {
    const redirected = await fetchWith(`http://docs.test:${port}/redirect?to=%2Fjson`, options());
    expect(redirected.output).toContain(`URL: http://docs.test:${port}/json`);
    expect(redirected.output).toContain('{\n  "a": 1\n}');
    const missing = await fetchWith(`http://docs.test:${port}/missing`, options());
    expect(missing).toMatchObject({ isError: true });
    expect(missing.output).toContain("Status: 404");
  });

  it("stops reading at the size limit and gives up after the time limit", async () => {
    const big = await fetchWith(`http://docs.test:${port}/big`, { ...options(), maxBytes: 1000 });
    expect(big.output).toContain("(only the first 1000 bytes were read)");
    const slow = await fetchWith(`http://docs.test:${port}/hang`, { ...options(), timeoutMs: 100 });
    expect(slow).toMatchObject({ isError: true, output: "The fetch took longer than 0.1 s." });
  });

  it("rejects garbage URLs and credentials", async () => {
    expect((await fetchWith("not a url")).output).toBe("Not a valid absolute URL: not a url");
    expect((await fetchWith(`http://user:pw@docs.test:${port}/page`, options())).output).toMatch(
      /credentials/,
    );
  });
});

describe("htmlToText", () => {
  it("survives hostile markup in linear time", () => {
    expect(htmlToText("<".repeat(200_000))).toHaveLength(200_000);
    expect(htmlToText("<script>".repeat(50_000))).toBe("");
    expect(htmlToText("a &#0; &#x110000; &bogus; b")).toBe("a &#0; &#x110000; &bogus; b");
  });
});
