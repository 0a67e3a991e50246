import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.ts";
import { ValidationError } from "./errors/errors.ts";

describe("config", () => {
  it("has the documented defaults", () => {
    const c = loadConfig({});
    expect(c.port).toBe(4000);
    expect(c.dataDir).toBe(path.resolve(".kiln"));
    expect(c.databaseUrl).toBeUndefined();
    expect(c.publicUrl).toBe("http://localhost:4000");
    expect(c.logLevel).toBe("info");
  });

  it("reads the environment", () => {
    const c = loadConfig({
      PORT: "5000",
      KILN_DATA_DIR: "/tmp/x",
      DATABASE_URL: "postgres://u@h/db",
      LOG_LEVEL: "debug",
    });
    expect(c).toMatchObject({
      port: 5000,
      dataDir: "/tmp/x",
      databaseUrl: "postgres://u@h/db",
      logLevel: "debug",
    });
    expect(c.publicUrl).toBe("http://localhost:5000");
    expect(loadConfig({ DATABASE_URL: "" }).databaseUrl).toBeUndefined();
  });

  it("rejects nonsense with a clear error", () => {
    expect(() => loadConfig({ PORT: "abc" })).toThrow(ValidationError);
    expect(() => loadConfig({ PORT: "70000" })).toThrow(ValidationError);
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow(ValidationError);
    expect(() => loadConfig({ DATABASE_URL: "not a url" })).toThrow(ValidationError);
  });
});
