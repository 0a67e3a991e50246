import { availableParallelism } from "node:os";
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
    expect(c.maxStreamsPerUser).toBe(32);
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
    expect(loadConfig({ KILN_MAX_STREAMS_PER_USER: "200" }).maxStreamsPerUser).toBe(200);
  });

  it("defaults the public URL to the one address the server listens on", () => {
    // On every address, localhost reaches it; on one address, that address (the one `kiln start` prints; a
    // loopback one's aliases pass the Origin checks too, studio-origin.ts). Workers clone and call the model
    // proxy at this URL.
    for (const HOST of ["0.0.0.0", "::", "localhost"])
      expect(loadConfig({ HOST, PORT: "4100" }).publicUrl).toBe("http://localhost:4100");
    expect(loadConfig({ HOST: "127.0.0.1", PORT: "4101" }).publicUrl).toBe("http://127.0.0.1:4101");
    expect(loadConfig({ HOST: "::1", PORT: "4100" }).publicUrl).toBe("http://[::1]:4100");
    expect(loadConfig({ HOST: "10.213.7.1", PORT: "4100" }).publicUrl).toBe("http://10.213.7.1:4100");
    expect(loadConfig({ HOST: "127.0.0.2", PORT: "4100" }).publicUrl).toBe("http://127.0.0.2:4100");
    expect(loadConfig({ HOST: "fd00::5", PORT: "4100" }).publicUrl).toBe("http://[fd00::5]:4100");
    expect(loadConfig({ HOST: "kiln.lan", PORT: "4100" }).publicUrl).toBe("http://kiln.lan:4100");
    expect(loadConfig({ HOST: "10.213.7.1", KILN_PUBLIC_URL: "https://kiln.example.com/" }).publicUrl).toBe(
      "https://kiln.example.com",
    );
  });

  it("rejects nonsense with a clear error", () => {
    expect(() => loadConfig({ PORT: "abc" })).toThrow(ValidationError);
    expect(() => loadConfig({ PORT: "70000" })).toThrow(ValidationError);
    expect(() => loadConfig({ LOG_LEVEL: "loud" })).toThrow(ValidationError);
    expect(() => loadConfig({ KILN_MAX_STREAMS_PER_USER: "0" })).toThrow(/KILN_MAX_STREAMS_PER_USER/);
    expect(() => loadConfig({ DATABASE_URL: "not a url" })).toThrow(ValidationError);
    // The message names the variable: `kiln start` prints only the message.
    expect(() => loadConfig({ KILN_PUBLIC_URL: "kiln.example.com" })).toThrow(/KILN_PUBLIC_URL/);
    // Empty means unset, as for DATABASE_URL.
    expect(loadConfig({ KILN_PUBLIC_URL: "" }).publicUrl).toBe("http://localhost:4000");
  });

  it("reads the egress exemptions, names a bad entry, and refuses the variable they replaced", () => {
    expect(loadConfig({}).egressAllow).toEqual([]);
    expect(loadConfig({ KILN_EGRESS_ALLOW: "127.0.0.1:4010, http://ollama.lan:11434" }).egressAllow).toEqual([
      { kind: "host", host: "127.0.0.1", port: 4010 },
      { kind: "host", host: "ollama.lan", port: 11434 },
    ]);
    expect(() => loadConfig({ KILN_EGRESS_ALLOW: "10.0.0.0/99" })).toThrow(
      /KILN_EGRESS_ALLOW: "10.0.0.0\/99"/,
    );
    expect(() => loadConfig({ KILN_LLM_ALLOW_PRIVATE_URLS: "1" })).toThrow(
      /KILN_LLM_ALLOW_PRIVATE_URLS: was removed: .*KILN_EGRESS_ALLOW/,
    );
    expect(loadConfig({ KILN_LLM_ALLOW_PRIVATE_URLS: "0" }).egressAllow).toEqual([]);
  });

  it("reads the deploy targets' API roots: the public ones by default, a trailing slash dropped, nonsense refused", () => {
    expect(loadConfig({}).deployTargets).toEqual({
      apiUrls: {
        vercel: "https://api.vercel.com",
        netlify: "https://api.netlify.com",
        "cloudflare-pages": "https://api.cloudflare.com/client/v4",
      },
      pollMs: 2000,
    });
    expect(loadConfig({ KILN_NETLIFY_API_URL: "http://127.0.0.1:9999/" }).deployTargets.apiUrls.netlify).toBe(
      "http://127.0.0.1:9999",
    );
    expect(() => loadConfig({ KILN_VERCEL_API_URL: "api.vercel.com" })).toThrow(/KILN_VERCEL_API_URL/);
    expect(() => loadConfig({ KILN_DEPLOY_POLL_MS: "1" })).toThrow(/KILN_DEPLOY_POLL_MS/);
  });

  it("reads the resolvers custom domains are verified with; the system's by default, a bad one named", () => {
    expect(loadConfig({}).dnsServers).toEqual([]);
    expect(loadConfig({ KILN_DNS_SERVERS: "127.0.0.1:5353, 9.9.9.9,[::1]:53" }).dnsServers).toEqual([
      "127.0.0.1:5353",
      "9.9.9.9",
      "[::1]:53",
    ]);
    expect(() => loadConfig({ KILN_DNS_SERVERS: "dns.example.com" })).toThrow(
      /KILN_DNS_SERVERS: .*dns\.example\.com/,
    );
  });

  it("reads the aggregate limits: defaults for a shared instance, 0 turns one off, nonsense is refused", () => {
    const c = loadConfig({});
    expect(c.limits).toEqual({
      projectsPerOrg: 100,
      orgsPerUser: 10,
      sandboxesPerOrg: 24,
      terminalsPerOrg: 20,
      terminalsPerUser: 10,
      chatRunsPerOrg: 10,
      chatRunsPerUser: 4,
      orgMemoryBytes: 24 * 1024 ** 3,
      orgCpus: 6 * availableParallelism(),
      projectDiskBytes: 2 * 1024 ** 3,
      diskCheckMs: 30_000,
    });
    const set = loadConfig({
      KILN_MAX_PROJECTS_PER_ORG: "0",
      KILN_ORG_MEMORY_MB: "512",
      KILN_ORG_CPUS: "2.5",
      KILN_PROJECT_DISK_MB: "100",
      KILN_DISK_CHECK_SECONDS: "0",
    });
    expect(set.limits).toMatchObject({
      projectsPerOrg: 0,
      orgMemoryBytes: 512 * 1024 ** 2,
      orgCpus: 2.5,
      projectDiskBytes: 100 * 1024 ** 2,
      diskCheckMs: 0,
    });
    expect(() => loadConfig({ KILN_MAX_ORGS_PER_USER: "-1" })).toThrow(/KILN_MAX_ORGS_PER_USER/);
    expect(() => loadConfig({ KILN_MAX_CHAT_RUNS_PER_USER: "1.5" })).toThrow(/KILN_MAX_CHAT_RUNS_PER_USER/);
    expect(() => loadConfig({ KILN_PROJECT_DISK_MB: "lots" })).toThrow(/KILN_PROJECT_DISK_MB/);
  });
});
