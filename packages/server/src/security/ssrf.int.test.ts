import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import type { LanguageModelV4CallOptions } from "@ai-sdk/provider";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { llmProviders } from "../db/schema-tenant.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { TestClient } from "../testing/client.ts";
import { startTestKiln, type TestKiln, testDbKind, uniqueSlug } from "../testing/harness.ts";

/**
 * An org admin aims the server's outbound requests (model providers: saving one, listing its models,
 * calling it) at the host itself or the networks behind it (SSRF). Every listener here is on this
 * machine: its non-loopback interface addresses and loopback. Other private ranges are only ever
 * refused before connecting — a socket spy proves no connection to them is even attempted.
 */

interface Internal {
  /** How the server's address is written in a URL's host. */
  host: string;
  port: number;
  server: Server;
  hits: string[];
}

const SECRET_MODEL = "internal-secret-model";
let internals: Internal[] = [];
let relay: Internal;
let kiln: TestKiln;
let attempts: Array<{ host: string; port: number }> = [];
/** The test database's own connections are not the server's outbound requests. */
const dbPort = testDbKind() === "postgres" ? Number(new URL(inject("databaseUrl")).port || 5432) : -1;

/** A service on this host that must stay unreachable: it answers a model list, as the finding's did. */
async function listen(address: string, handler?: (url: string) => { status: number; location?: string }) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? "");
    const answer = handler?.(req.url ?? "");
    if (answer) {
      res.writeHead(answer.status, answer.location ? { location: answer.location } : {});
      return res.end();
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ object: "list", data: [{ id: SECRET_MODEL, object: "model" }] }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, address, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return { host: net.isIPv6(address) ? `[${address}]` : address, port, server, hits };
}

/** This machine's own addresses, beyond loopback (link-local ones need a zone to listen on; skipped). */
function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i && !i.internal && !(i.family === "IPv6" && i.address.startsWith("fe80:")))
    .map((i) => i!.address);
}

beforeAll(async () => {
  internals = await Promise.all([...interfaceAddresses(), "127.0.0.1", "::1"].map((a) => listen(a)));
  // Stands in for an allowed public host (you cannot reach the internet here): exempted by the operator,
  // it redirects to the first of this host's own addresses.
  relay = await listen("127.0.0.1", () => ({
    status: 302,
    location: `http://${internals[0]!.host}:${internals[0]!.port}/v1/models`,
  }));
  kiln = await startTestKiln({ env: { KILN_EGRESS_ALLOW: `127.0.0.1:${relay.port}` } });
});
afterAll(async () => {
  await kiln?.stop();
  for (const s of [...internals, relay]) {
    s?.server.closeAllConnections();
    s?.server.close();
  }
});
beforeEach(() => {
  for (const s of [...internals, relay]) s.hits.length = 0;
  attempts = [];
  const connect = net.Socket.prototype.connect;
  vi.spyOn(net.Socket.prototype, "connect").mockImplementation(function (
    this: net.Socket,
    ...args: unknown[]
  ) {
    // net.createConnection hands connect its arguments normalised into one array.
    const o = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { host?: string; port?: number } | undefined;
    if (o && typeof o === "object" && o.port !== undefined && Number(o.port) !== dbPort)
      attempts.push({ host: o.host ?? "", port: o.port });
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  });
});
afterEach(() => vi.restoreAllMocks());

async function admin(): Promise<{ client: TestClient; base: string; access: OrgAccess }> {
  const owner = await kiln.signup();
  const org = (await owner.client.post("/api/orgs", { name: "SSRF", slug: uniqueSlug("ssrf") })).json();
  const access = await kiln.services.orgs.access(owner.user.id, org.id);
  return { client: owner.client, base: `/api/orgs/${org.slug}`, access };
}

const code = (res: { json(): unknown }) => (res.json() as { error?: { code?: string } }).error?.code;
const nothingReached = () => {
  for (const s of internals) expect(s.hits, `${s.host}:${s.port}`).toEqual([]);
};
/** What a chat turn does with the provider: its listing seen through the API, then one model call. */
async function listAndCall(o: { client: TestClient; base: string; access: OrgAccess }, name: string) {
  const res = await o.client.get(`${o.base}/llm/models`);
  expect(res.statusCode).toBe(200);
  const list = res.json();
  expect(JSON.stringify(list)).not.toContain(SECRET_MODEL);
  const { model } = await kiln.services.llm.gateway.languageModel(
    { org: o.access.org, userId: o.access.userId, source: "chat" },
    `${name}/any`,
  );
  await expect(model.doGenerate({ prompt })).rejects.toMatchObject({ code: "egress_refused", status: 502 });
  return list.providers.find((p: { name: string }) => p.name === name).listError as string;
}

const prompt: LanguageModelV4CallOptions["prompt"] = [
  { role: "user", content: [{ type: "text", text: "hi" }] },
];

describe("SSRF through an org's model provider", () => {
  it("refuses every address of this host, with a real service listening on it, and never reaches it", async () => {
    const { client, base } = await admin();
    expect(internals.length).toBeGreaterThan(2);
    for (const [i, s] of internals.entries()) {
      const res = await client.post(`${base}/llm/providers`, {
        name: `own-${i}`,
        kind: "openai-compatible",
        baseUrl: `http://${s.host}:${s.port}/v1`,
      });
      expect([s.host, res.statusCode, code(res)]).toEqual([s.host, 400, "egress_refused"]);
    }
    const list = await client.get(`${base}/llm/models`);
    expect(list.statusCode).toBe(200);
    expect(JSON.stringify(list.json())).not.toContain(SECRET_MODEL);
    nothingReached();
  });

  it("refuses loopback, 'this host', private, shared, metadata, benchmark and documentation addresses before connecting", async () => {
    const { client, base } = await admin();
    const { port } = internals.at(-2)!; // the 127.0.0.1 listener
    const hosts = [
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      `[::ffff:127.0.0.1]:${port}`,
      `0.0.0.0:${port}`,
      `[::]:${port}`,
      `2130706433:${port}`,
      `0x7f.1:${port}`,
      `localhost:${port}`,
      "169.254.169.254",
      "[fd00:ec2::254]",
      "10.0.0.1",
      "172.16.0.1",
      "192.168.1.1",
      "100.64.0.1",
      "198.18.0.1",
      "198.19.255.1",
      "192.0.2.10",
      "198.51.100.10",
      "203.0.113.10",
      "[64:ff9b::a00:1]",
    ];
    if (os.hostname() !== "localhost") hosts.push(`${os.hostname()}:${port}`);
    for (const host of hosts) {
      const res = await client.post(`${base}/llm/providers`, {
        name: "p",
        kind: "openai-compatible",
        baseUrl: `http://${host}/v1`,
      });
      // The host's own name resolves to one of its addresses, or not at all: refused or left to connect time.
      if (host.startsWith(os.hostname()) && res.statusCode === 201) continue;
      expect([host, res.statusCode, code(res)]).toEqual([host, 400, "egress_refused"]);
    }
    // Changing an allowed provider to one of them is refused the same way.
    const ok = await client.post(`${base}/llm/providers`, { name: "ok", kind: "openai" });
    expect(ok.statusCode).toBe(201);
    const patched = await client.patch(`${base}/llm/providers/${ok.json().id}`, {
      baseUrl: `http://[::ffff:7f00:1]:${port}/v1`,
    });
    expect([patched.statusCode, code(patched)]).toEqual([400, "egress_refused"]);
    expect(attempts).toEqual([]);
    nothingReached();
  });

  it("an allowed host redirecting to this host's address: the redirect is refused, the target never reached", async () => {
    const org = await admin();
    const created = await org.client.post(`${org.base}/llm/providers`, {
      name: "relay",
      kind: "openai-compatible",
      baseUrl: `http://127.0.0.1:${relay.port}/v1`,
    });
    expect(created.statusCode).toBe(201);
    expect(await listAndCall(org, "relay")).toMatch(/an address of this server itself|private, loopback/);
    expect(relay.hits).toEqual(["/v1/models", "/v1/chat/completions"]);
    // The only sockets opened went to the exempted relay: the hop it named was refused before connecting.
    expect(new Set(attempts.map((a) => `${a.host}:${a.port}`))).toEqual(new Set([`127.0.0.1:${relay.port}`]));
    nothingReached();
  });

  it("a provider whose address changes after it was saved fails cleanly and reaches nothing", async () => {
    const { client, base, access } = await admin();
    const created = await client.post(`${base}/llm/providers`, {
      name: "moved",
      kind: "openai-compatible",
      baseUrl: "https://llm.kiln-test.invalid/v1",
    });
    expect(created.statusCode).toBe(201);
    // What a name re-pointed at the host after the check amounts to (DNS rebinding, or a row from before).
    const target = internals[0]!;
    await kiln.database.tenant(access.org.schemaName, (tx) =>
      tx
        .update(llmProviders)
        .set({ baseUrl: `http://${target.host}:${target.port}/v1`, updatedAt: new Date() })
        .where(eq(llmProviders.id, created.json().id)),
    );
    expect(await listAndCall({ client, base, access }, "moved")).toMatch(/only public addresses/);
    nothingReached();
  });
});
