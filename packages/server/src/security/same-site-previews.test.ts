import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.ts";

/**
 * A preview on the studio's registrable domain can toss cookies at it and counts as same-site. Kiln refuses
 * to start so configured unless the operator opts in; one-machine set-ups (localhost, *.localhost, an IP
 * address) and previews on a domain of their own keep working with no extra setting.
 */

const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));

const config =
  (publicUrl: string, appDomain: string, extra: Record<string, string> = {}) =>
  () =>
    loadConfig({ KILN_PUBLIC_URL: publicUrl, KILN_APP_DOMAIN: appDomain, ...extra });

describe("previews on the studio's site", () => {
  it("are refused, naming the variables and the way out", () => {
    for (const [publicUrl, appDomain, site] of [
      ["https://studio.example.com", "example.com", "example.com"],
      ["https://example.com", "example.com", "example.com"],
      ["https://kiln.example.com", "preview.example.com", "example.com"],
      ["https://kiln.example.co.uk", "apps.example.co.uk", "example.co.uk"],
      ["http://kiln.localhost:4000", "kiln.localhost", "kiln.localhost"],
      ["https://STUDIO.Example.com", "Example.COM.", "example.com"],
    ] as const) {
      const load = config(publicUrl, appDomain);
      expect(load, `${publicUrl} + ${appDomain}`).toThrow(/KILN_APP_DOMAIN/);
      expect(load).toThrow(new RegExp(`site ${site.replace(/\./g, "\\.")}`));
      expect(load).toThrow(/KILN_ALLOW_SAME_SITE_PREVIEWS=1/);
    }
  });

  it("are allowed when the operator opts in", () => {
    const c = config("https://studio.example.com", "example.com", { KILN_ALLOW_SAME_SITE_PREVIEWS: "1" })();
    expect(c.allowSameSitePreviews).toBe(true);
    expect(c.appDomain).toBe("example.com");
  });

  it("are not what separate sites are", () => {
    expect(loadConfig({}).allowSameSitePreviews).toBe(false);
    for (const [publicUrl, appDomain] of [
      ["http://localhost:4000", "localhost"], // the default set-up
      ["http://127.0.0.1:4000", "localhost"],
      ["http://[::1]:4000", "localhost"],
      ["http://192.168.1.20:4000", "localhost"],
      ["https://studio.example.com", "example-previews.com"],
      ["https://kiln.example.co.uk", "co.uk"], // a public suffix: every preview a site of its own
      ["https://kiln.example.com", "github.io"], // the PSL's private section counts, as in browsers
    ] as const)
      expect(config(publicUrl, appDomain), `${publicUrl} + ${appDomain}`).not.toThrow();
  });

  it("make `kiln start` exit at once with the reason", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-same-site-"));
    try {
      const child = spawn(process.execPath, [CLI, "start"], {
        env: {
          PATH: process.env.PATH,
          KILN_DATA_DIR: dataDir,
          PORT: "0",
          HOST: "127.0.0.1",
          KILN_PUBLIC_URL: "https://studio.example.com",
          KILN_APP_DOMAIN: "example.com",
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (c) => (stderr += c));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          resolve(null);
        }, 20_000);
        child.on("exit", (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(code, stderr).toBe(1);
      expect(stderr).toMatch(/KILN_APP_DOMAIN: previews at \*\.example\.com share the site example\.com/);
      expect(stderr).toContain("KILN_ALLOW_SAME_SITE_PREVIEWS=1");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
