import { describe, expect, it } from "vitest";
import { KilnError } from "../errors/errors.ts";
import { hostOfRequest, normalizeHostname } from "./hostname.ts";

const reserved = {
  publicUrl: "https://kiln.example.net",
  appDomain: "preview.example-previews.com",
  publishDomain: "apps.example-apps.com",
};

function refusal(input: string): string {
  try {
    normalizeHostname(input, reserved);
  } catch (err) {
    expect(err).toBeInstanceOf(KilnError);
    expect((err as KilnError).code).toBe("hostname_invalid");
    return (err as KilnError).message;
  }
  throw new Error(`${input} was accepted`);
}

describe("a custom domain's hostname", () => {
  it("is kept lower case, ASCII and without the final dot", () => {
    expect(normalizeHostname("  Shop.Example.COM. ", reserved)).toBe("shop.example.com");
    expect(normalizeHostname("example.org", reserved)).toBe("example.org");
    expect(normalizeHostname("bücher.example.de", reserved)).toBe("xn--bcher-kva.example.de");
    expect(normalizeHostname("my-app.user.github.io", reserved)).toBe("my-app.user.github.io");
  });

  it("refuses IPs, wildcards, URLs and malformed names", () => {
    expect(refusal("127.0.0.1")).toMatch(/IP address/);
    expect(refusal("[::1]")).toMatch(/IP address/);
    expect(refusal("::1")).toMatch(/IP address|without scheme/);
    expect(refusal("*.example.com")).toMatch(/wildcard/);
    expect(refusal("https://shop.example.com/")).toMatch(/without scheme/);
    expect(refusal("shop.example.com:8443")).toMatch(/without scheme/);
    expect(refusal("user@example.com")).toMatch(/without scheme/);
    expect(refusal("a..example.com")).toMatch(/label/);
    expect(refusal("-a.example.com")).toMatch(/label/);
    expect(refusal("a_b.example.com")).toMatch(/label/);
    expect(refusal(`${"a".repeat(64)}.example.com`)).toMatch(/label/);
    expect(refusal(`${"abcdefghi.".repeat(25)}example.com`)).toMatch(/at most 253/);
    expect(refusal("localhost")).toMatch(/two labels/);
    expect(refusal("shop.localhost")).toMatch(/public suffix/);
    expect(refusal("shop.internal-only")).toMatch(/public suffix/);
  });

  it("refuses public suffixes: nobody's own name", () => {
    expect(refusal("co.uk")).toMatch(/public suffix/);
    expect(refusal("github.io")).toMatch(/public suffix/);
    expect(refusal("com.")).toMatch(/two labels/);
  });

  it("refuses Kiln's own names, their subdomains and anything on their registrable domains", () => {
    expect(refusal("kiln.example.net")).toMatch(/Kiln's own/);
    expect(refusal("api.kiln.example.net")).toMatch(/Kiln's own/);
    expect(refusal("www.example.net")).toMatch(/registrable domain example.net/);
    expect(refusal("example.net")).toMatch(/registrable domain example.net/);
    expect(refusal("preview.example-previews.com")).toMatch(/Kiln's own/);
    expect(refusal("habits--team.preview.example-previews.com")).toMatch(/Kiln's own/);
    expect(refusal("habits--team.apps.example-apps.com")).toMatch(/Kiln's own/);
    expect(refusal("shop.example-apps.com")).toMatch(/registrable domain/);
  });

  it("a Host header is looked up only when it could be one", () => {
    expect(hostOfRequest("Shop.Example.com:443")).toBe("shop.example.com");
    expect(hostOfRequest("shop.example.com.")).toBe("shop.example.com");
    expect(hostOfRequest("localhost:4000")).toBeUndefined();
    expect(hostOfRequest("127.0.0.1:4000")).toBeUndefined();
    expect(hostOfRequest("[::1]:4000")).toBeUndefined();
    expect(hostOfRequest("evil.com/../x")).toBeUndefined();
    expect(hostOfRequest(undefined)).toBeUndefined();
    expect(hostOfRequest("a".repeat(400))).toBeUndefined();
  });
});
