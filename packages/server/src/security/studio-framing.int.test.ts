import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STUDIO_HEADERS } from "../http/security-headers.ts";
import { startTestKiln, type TestKiln } from "../testing/harness.ts";
import { previewGet } from "../testing/preview.ts";

/**
 * Clickjacking and reverse tabnabbing: any page could put the studio in a frame and trick clicks into it,
 * and a preview opened in a new tab kept a handle on the studio's window. Every studio answer — the page,
 * the API, errors, unknown paths — says that only the studio may frame it and that it shares its window
 * with no other origin; preview answers must not, or the studio could not frame them.
 */

let kiln: TestKiln;
let port: number;

beforeAll(async () => {
  kiln = await startTestKiln();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
}, 120_000);

afterAll(() => kiln?.stop());

describe("studio answers", () => {
  const requests: Array<[string, { method: "GET" | "POST"; url: string; accept?: string }]> = [
    ["the studio page", { method: "GET", url: "/", accept: "text/html" }],
    ["a deep link", { method: "GET", url: "/some-org/some-project", accept: "text/html" }],
    ["the API", { method: "GET", url: "/api/health" }],
    ["an unauthenticated API call", { method: "GET", url: "/api/auth/me" }],
    ["a refused log-in", { method: "POST", url: "/api/auth/login" }],
    ["an unknown path", { method: "GET", url: "/api/nope" }],
  ];
  for (const [what, req] of requests) {
    it(`forbid framing by other origins and share no window: ${what}`, async () => {
      const res = await kiln.app.inject({
        method: req.method,
        url: req.url,
        headers: { accept: req.accept ?? "application/json" },
        ...(req.method === "POST" ? { payload: {} } : {}),
      });
      expect(res.headers["content-security-policy"]).toContain("frame-ancestors 'self'");
      expect(res.headers["x-frame-options"]).toBe("SAMEORIGIN");
      expect(res.headers["cross-origin-opener-policy"]).toBe("same-origin");
    });
  }

  it("leave preview answers alone, which the studio frames", async () => {
    const res = await previewGet(port, "nope--nobody.localhost:4000", "/");
    expect(res.status).toBe(404);
    for (const name of Object.keys(STUDIO_HEADERS)) expect(res.headers[name]).toBeUndefined();
  });
});
