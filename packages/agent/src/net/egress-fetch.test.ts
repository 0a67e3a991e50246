import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AddressPolicy, EgressRefusedError, type ResolvedAddress } from "./address-policy.ts";
import { createEgressFetch } from "./egress-fetch.ts";

let server: Server;
let port: number;
let hits: Array<{ url: string; method: string; auth: string | undefined; body: string }> = [];
/** Every host a socket of this process was asked to connect to during a test, and where it landed. */
let attempts: string[] = [];
let connects: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      hits.push({ url: req.url ?? "", method: req.method ?? "", auth: req.headers.authorization, body });
      const to = new URL(req.url ?? "/", "http://x").searchParams.get("to");
      if (to) {
        res.writeHead(Number(new URL(req.url ?? "/", "http://x").searchParams.get("status") ?? 302), {
          location: to,
        });
        return res.end();
      }
      if (req.url === "/hang") return res.write("partial");
      res.writeHead(201, { "x-echo": String(req.headers["x-test"] ?? "") });
      res.end(`${req.method} ${body}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  hits = [];
  attempts = [];
  connects = [];
  const connect = net.Socket.prototype.connect;
  vi.spyOn(net.Socket.prototype, "connect").mockImplementation(function (
    this: net.Socket,
    ...args: unknown[]
  ) {
    // net.createConnection hands connect its arguments normalised into one array.
    const options = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { host?: string } | undefined;
    if (options && typeof options === "object" && options.host) attempts.push(options.host);
    this.once("connect", () => connects.push(this.remoteAddress ?? "?"));
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  });
});
afterEach(() => vi.restoreAllMocks());

/**
 * "docs.test" plays a public host: it resolves to the local test server, whose address and port are
 * exempted the way an operator would (KILN_EGRESS_ALLOW); everything else is under the real rule.
 */
function policyWith(names: Record<string, string[]>, calls: string[] = []) {
  return new AddressPolicy({
    resolve: async (host): Promise<ResolvedAddress[]> => {
      calls.push(host);
      const answers = names[host];
      if (!answers) throw new Error("ENOTFOUND");
      return answers.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
    },
    allow: [{ kind: "host", host: "127.0.0.1", port }],
  });
}

describe("egress fetch", () => {
  it("speaks HTTP: method, headers, body, status, a streamed body, and stops on abort", async () => {
    const egress = createEgressFetch(policyWith({}));
    const res = await egress(`http://127.0.0.1:${port}/`, {
      method: "POST",
      body: "hi",
      headers: { "x-test": "1" },
    });
    expect([res.status, res.headers.get("x-echo"), await res.text()]).toEqual([201, "1", "POST hi"]);
    const controller = new AbortController();
    const hanging = await egress(`http://127.0.0.1:${port}/hang`, { signal: controller.signal });
    const reader = hanging.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("partial");
    controller.abort();
    await expect(reader.read()).rejects.toThrow();
  });

  it("refuses refused addresses before any socket is opened", async () => {
    const egress = createEgressFetch(policyWith({ "intranet.test": ["10.1.2.3"] }));
    for (const url of [
      "http://10.0.0.1/",
      "http://intranet.test/",
      "http://169.254.169.254/latest/meta-data/",
      `http://127.0.0.1:${port + 1}/`,
      `http://[::1]:${port}/`,
    ]) {
      await expect(egress(url), url).rejects.toBeInstanceOf(EgressRefusedError);
    }
    expect(attempts).toEqual([]);
    expect(hits).toEqual([]);
  });

  it("checks every redirect hop: an allowed host redirecting to a refused one is stopped there", async () => {
    const calls: string[] = [];
    const egress = createEgressFetch(
      policyWith({ "docs.test": ["127.0.0.1"], "meta.test": ["169.254.169.254"] }, calls),
    );
    for (const target of [
      "http://169.254.169.254/latest/meta-data/",
      "http://meta.test/",
      "http://10.0.0.1/x",
    ]) {
      hits = [];
      attempts = [];
      connects = [];
      const url = `http://docs.test:${port}/r?to=${encodeURIComponent(target)}`;
      await expect(egress(url), target).rejects.toBeInstanceOf(EgressRefusedError);
      expect(hits.map((h) => h.url)).toEqual([`/r?to=${encodeURIComponent(target)}`]);
      expect([attempts, connects]).toEqual([["docs.test"], ["127.0.0.1"]]);
    }
    const manual = await egress(`http://docs.test:${port}/r?to=http://10.0.0.1/`, { redirect: "manual" });
    expect([manual.status, manual.headers.get("location")]).toEqual([302, "http://10.0.0.1/"]);
  });

  it("follows allowed redirects: 303 turns a POST into a GET, credentials stay with their origin", async () => {
    const egress = createEgressFetch(policyWith({ "docs.test": ["127.0.0.1"] }));
    const sameOrigin = await egress(`http://127.0.0.1:${port}/r?status=307&to=/done`, {
      method: "POST",
      body: "b",
      headers: { authorization: "Bearer k" },
    });
    expect(await sameOrigin.text()).toBe("POST b");
    expect(hits.map((h) => [h.method, h.url, h.auth, h.body])).toEqual([
      ["POST", "/r?status=307&to=/done", "Bearer k", "b"],
      ["POST", "/done", "Bearer k", "b"],
    ]);
    hits = [];
    const other = `http://docs.test:${port}/done`;
    const crossOrigin = await egress(
      `http://127.0.0.1:${port}/r?status=303&to=${encodeURIComponent(other)}`,
      {
        method: "POST",
        body: "b",
        headers: { authorization: "Bearer k" },
      },
    );
    expect(await crossOrigin.text()).toBe("GET ");
    expect(hits.map((h) => [h.method, h.auth])).toEqual([
      ["POST", "Bearer k"],
      ["GET", undefined],
    ]);
    await expect(egress(`http://127.0.0.1:${port}/r?to=/x`, { redirect: "error" })).rejects.toThrow(
      TypeError,
    );
  });

  it("connects to the address it checked, not to a second DNS answer (rebinding)", async () => {
    // The name answers the allowed address when checked and a private one on any later question.
    const answers = ["127.0.0.1", "10.0.0.1"];
    let asked = 0;
    const rebinding = new AddressPolicy({
      resolve: async () => [{ address: answers[Math.min(asked++, 1)]!, family: 4 }],
      allow: [{ kind: "host", host: "127.0.0.1", port }],
    });
    const res = await createEgressFetch(rebinding)(`http://docs.test:${port}/`);
    expect(await res.text()).toBe("GET ");
    expect(asked).toBe(1);
    expect([attempts, connects]).toEqual([["docs.test"], ["127.0.0.1"]]);
    // The next request asks again, gets the private answer, and is refused without connecting.
    attempts = [];
    await expect(createEgressFetch(rebinding)(`http://docs.test:${port}/`)).rejects.toBeInstanceOf(
      EgressRefusedError,
    );
    expect(attempts).toEqual([]);
  });
});
