import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import {
  createGuardedFetch,
  ForbiddenAddressError,
  guardedFetch,
  guardedLookup,
  isPrivateAddress,
} from "./egress.ts";

describe("isPrivateAddress", () => {
  it("blocks loopback, private, link-local, metadata and mapped forms of them", () => {
    for (const a of [
      "127.0.0.1",
      "10.0.0.8",
      "172.16.5.4",
      "192.168.1.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "255.255.255.255",
      "::1",
      "::",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "::ffff:7f00:1",
      "64:ff9b::10.0.0.1",
      "not-an-ip",
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
  });

  it("lets public addresses through", () => {
    for (const a of ["1.1.1.1", "8.8.8.8", "172.32.0.1", "2606:4700::1111", "::ffff:1.1.1.1"]) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
  });
});

describe("guardedFetch", () => {
  it("refuses literal private addresses and localhost before connecting", async () => {
    for (const url of [
      "http://127.0.0.1:9/v1",
      "http://[::1]/",
      "http://169.254.169.254/latest",
      "http://localhost/",
    ]) {
      await expect(guardedFetch(url), url).rejects.toBeInstanceOf(ForbiddenAddressError);
    }
    await expect(guardedFetch("file:///etc/passwd")).rejects.toThrow(TypeError);
  });

  it("refuses a name that resolves to a private address at connect time", async () => {
    const result = await new Promise<unknown>((resolve) =>
      guardedLookup()("localhost", { family: 0 } as never, (err) => resolve(err)),
    );
    expect(result).toBeInstanceOf(ForbiddenAddressError);
  });

  it("speaks HTTP: method, headers, body, status, a streamed body, and stops on abort", async () => {
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        res.writeHead(201, { "x-echo": String(req.headers["x-test"] ?? "") });
        if (req.url === "/hang") return res.write("partial");
        res.end(`${req.method} ${body}`);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    // The plumbing, with nothing blocked (loopback is what a test server has).
    const open = createGuardedFetch(() => false);
    try {
      const res = await open(`http://127.0.0.1:${port}/`, {
        method: "POST",
        body: "hi",
        headers: { "x-test": "1" },
      });
      expect([res.status, res.headers.get("x-echo"), await res.text()]).toEqual([201, "1", "POST hi"]);
      const controller = new AbortController();
      const hanging = await open(`http://127.0.0.1:${port}/hang`, { signal: controller.signal });
      const reader = hanging.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe("partial");
      controller.abort();
      await expect(reader.read()).rejects.toThrow();
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
