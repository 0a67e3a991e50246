import { describe, expect, it } from "vitest";
import { studioOrigins } from "./studio-origin.ts";

describe("studioOrigins", () => {
  it("takes every loopback spelling of a loopback public URL's scheme and port", () => {
    for (const url of ["http://127.0.0.1:4101", "http://localhost:4101/", "http://[::1]:4101"])
      expect([...studioOrigins(url)].sort()).toEqual([
        "http://127.0.0.1:4101",
        "http://[::1]:4101",
        "http://localhost:4101",
      ]);
    const origins = studioOrigins("http://127.0.0.1:4101");
    for (const other of ["http://127.0.0.1:4102", "https://127.0.0.1:4101", "http://127.0.0.2:4101"])
      expect(origins.has(other)).toBe(false);
  });

  it("never widens any other public URL", () => {
    expect([...studioOrigins("https://kiln.example.com")]).toEqual(["https://kiln.example.com"]);
    expect([...studioOrigins("http://10.0.0.5:4000")]).toEqual(["http://10.0.0.5:4000"]);
    expect([...studioOrigins("http://localhost.example.com:4000")]).toEqual([
      "http://localhost.example.com:4000",
    ]);
  });
});
