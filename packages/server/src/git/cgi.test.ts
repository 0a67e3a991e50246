import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { CgiError, parseCgiHead, readCgiHead } from "./cgi.ts";

describe("parseCgiHead", () => {
  it("reads the status and keeps only the headers a git client needs", () => {
    expect(
      parseCgiHead(
        "Status: 403 Forbidden\r\nContent-Type: text/plain\r\nSet-Cookie: a=b\r\nLocation: https://evil\r\nPragma: no-cache",
      ),
    ).toEqual({ status: 403, headers: { "content-type": "text/plain", pragma: "no-cache" } });
    expect(parseCgiHead("Content-Type: application/x-git-upload-pack-advertisement")).toEqual({
      status: 200,
      headers: { "content-type": "application/x-git-upload-pack-advertisement" },
    });
  });

  it("refuses what is not a header block", () => {
    expect(() => parseCgiHead("0000PACK")).toThrow(CgiError);
    expect(() => parseCgiHead("Status: abc")).toThrow(CgiError);
    expect(() => parseCgiHead("Status: 999 Nope")).toThrow(CgiError);
  });

  it("drops header values with control characters", () => {
    expect(parseCgiHead("Content-Type: a\u0000b").headers).toEqual({});
  });
});

describe("readCgiHead", () => {
  it("returns the head and the first body bytes, split across chunks", async () => {
    const stream = new PassThrough();
    const read = readCgiHead(stream);
    stream.write("Content-Type: x\r");
    stream.write("\n\r\n0008abcd");
    const { head, rest } = await read;
    expect(head).toEqual({ status: 200, headers: { "content-type": "x" } });
    expect(rest.toString()).toBe("0008abcd");
  });

  it("rejects a stream that ends first or never ends its head", async () => {
    const ended = new PassThrough();
    const early = readCgiHead(ended);
    ended.end("Content-Type: x\r\n");
    await expect(early).rejects.toThrow("ended before its headers");
    const endless = new PassThrough();
    const long = readCgiHead(endless);
    endless.write(`X-Pad: ${"a".repeat(20_000)}`);
    await expect(long).rejects.toThrow("too long");
  });
});
