import type { AuditEvent } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGitHub } from "../testing/git-hosts/github.ts";
import type { FakeGitHost } from "../testing/git-hosts/http.ts";
import { startGitServer, type TestGitServer } from "../testing/git-server.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/**
 * The org settings' audit records (ADR 0033), one per action, through the real routes: who, what, the
 * details — and never a secret's value, neither in the record nor anywhere in the org's export.
 */

const LLM_KEY = "sk-live-AUDITSECRET-0001";
const LLM_KEY_2 = "sk-live-AUDITSECRET-0002";
const TARGET_TOKEN = "vercel-audit-secret-token-4321";
const HOST_TOKEN = "ghp_audit-secret-token-0123456789";
/** A webhook URL on an address the test exempts (created, never delivered to: no event of its family). */
const HOOK_HOST = "127.0.0.1:9";

let kiln: TestKiln;
let server: TestGitServer;
let github: FakeGitHost;
let owner: SignedUp;

beforeAll(async () => {
  server = await startGitServer();
  github = await startFakeGitHub(server, { token: HOST_TOKEN, login: "octo-audit" });
  kiln = await startTestKiln({
    env: {
      KILN_EGRESS_ALLOW: [new URL(github.apiUrl).host, `${server.host}:${server.port}`, HOOK_HOST].join(","),
      KILN_EXTRA_CA_FILE: server.caFile,
    },
  });
}, 120_000);
afterAll(async () => {
  await kiln?.stop();
  await github?.close();
  await server?.stop();
});

interface Org {
  id: string;
  slug: string;
  base: string;
}

/** A new org of a new owner (a person may only make so many orgs). */
async function newOrg(): Promise<Org> {
  owner = await kiln.signup();
  const res = await owner.client.post("/api/orgs", { name: "Audited settings", slug: uniqueSlug("aset") });
  expect(res.statusCode, res.body).toBe(201);
  const { id, slug } = res.json() as { id: string; slug: string };
  return { id, slug, base: `/api/orgs/${slug}` };
}

/** The org's records of one action, newest first, read as its owner. */
async function recorded(org: Org, action: string): Promise<AuditEvent[]> {
  const res = await owner.client.get(`${org.base}/audit/events?action=${action}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().events;
}

/** The whole export of the org's log holds none of these values. */
async function expectNoSecrets(org: Org, ...secrets: string[]): Promise<void> {
  const res = await owner.client.get(`${org.base}/audit/events.jsonl`);
  expect(res.statusCode).toBe(200);
  expect(res.body.length).toBeGreaterThan(0);
  for (const secret of secrets) expect(res.body).not.toContain(secret);
}

const byOwner = () => ({ type: "user", userId: owner.user.id, email: owner.user.email });

async function createProvider(org: Org) {
  const res = await owner.client.post(`${org.base}/llm/providers`, {
    name: "vllm",
    kind: "openai-compatible",
    baseUrl: "https://gpu.example.com/",
    apiKey: LLM_KEY,
    models: [{ id: "qwen2.5-coder", contextWindow: 32_768 }],
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string };
}

describe("audit records of the org's settings", () => {
  it("llm.provider_created: the provider, its kind, URL and models; never its key", async () => {
    const org = await newOrg();
    const provider = await createProvider(org);
    expect(await recorded(org, "llm.provider_created")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: null,
        target: { type: "llm_provider", id: provider.id, label: "vllm" },
        data: {
          kind: "openai-compatible",
          baseUrl: "https://gpu.example.com/v1",
          models: ["qwen2.5-coder"],
          hasKey: true,
        },
      }),
    ]);
    await expectNoSecrets(org, LLM_KEY);
  });

  it("llm.provider_updated: what changed, and that the key did; never the key", async () => {
    const org = await newOrg();
    const provider = await createProvider(org);
    const res = await owner.client.patch(`${org.base}/llm/providers/${provider.id}`, {
      name: "vllm-2",
      apiKey: LLM_KEY_2,
    });
    expect(res.statusCode, res.body).toBe(200);
    const [event, ...rest] = await recorded(org, "llm.provider_updated");
    expect(rest).toEqual([]);
    expect(event).toMatchObject({
      actor: byOwner(),
      projectId: null,
      target: { type: "llm_provider", id: provider.id, label: "vllm-2" },
      data: {
        changed: ["name", "key"],
        kind: "openai-compatible",
        baseUrl: "https://gpu.example.com/v1",
        models: ["qwen2.5-coder"],
        previousName: "vllm",
        keyChanged: true,
        hasKey: true,
      },
    });
    await expectNoSecrets(org, LLM_KEY, LLM_KEY_2);
  });

  it("llm.provider_deleted: the provider as it was", async () => {
    const org = await newOrg();
    const provider = await createProvider(org);
    expect((await owner.client.delete(`${org.base}/llm/providers/${provider.id}`)).statusCode).toBe(200);
    expect(await recorded(org, "llm.provider_deleted")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: null,
        target: { type: "llm_provider", id: provider.id, label: "vllm" },
        data: { kind: "openai-compatible", baseUrl: "https://gpu.example.com/v1", models: ["qwen2.5-coder"] },
      }),
    ]);
    await expectNoSecrets(org, LLM_KEY);
  });

  it("llm.settings_updated: which settings changed, from what to what", async () => {
    const org = await newOrg();
    const res = await owner.client.patch(`${org.base}/llm/settings`, {
      defaultModel: "openai/gpt-audit",
      rateLimitPerMinute: 12,
    });
    expect(res.statusCode, res.body).toBe(200);
    // The same again changes nothing: no record.
    expect(
      (await owner.client.patch(`${org.base}/llm/settings`, { rateLimitPerMinute: 12 })).statusCode,
    ).toBe(200);
    expect(await recorded(org, "llm.settings_updated")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: null,
        target: null,
        data: {
          changed: ["defaultModel", "rateLimitPerMinute"],
          defaultModel: { from: null, to: "openai/gpt-audit" },
          rateLimitPerMinute: { from: null, to: 12 },
        },
      }),
    ]);
    await expectNoSecrets(org);
  });

  it("budget.set: scope, period and limit, on create and raise; a project's carries the project", async () => {
    const org = await newOrg();
    const project = (await owner.client.post(`${org.base}/projects`, { name: "Budgeted" })).json();
    const created = await owner.client.post(`${org.base}/budgets`, {
      scope: "project",
      scopeId: project.id,
      period: "monthly",
      unit: "usd",
      limit: 20,
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    expect((await owner.client.patch(`${org.base}/budgets/${id}`, { limit: 50 })).statusCode).toBe(200);
    const target = { type: "budget", id, label: "project monthly" };
    const common = { scope: "project", scopeId: project.id, period: "monthly", unit: "usd" };
    expect(await recorded(org, "budget.set")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target,
        data: { ...common, limit: 50, softFraction: 0.8, created: false },
      }),
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target,
        data: { ...common, limit: 20, softFraction: 0.8, created: true },
      }),
    ]);
    await expectNoSecrets(org);
  });

  it("budget.removed: the budget as it was", async () => {
    const org = await newOrg();
    const created = await owner.client.post(`${org.base}/budgets`, {
      scope: "org",
      period: "monthly",
      unit: "tokens",
      limit: 1000,
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    expect((await owner.client.delete(`${org.base}/budgets/${id}`)).statusCode).toBe(200);
    expect(await recorded(org, "budget.removed")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: null,
        target: { type: "budget", id, label: "org monthly" },
        data: {
          scope: "org",
          scopeId: null,
          period: "monthly",
          unit: "tokens",
          limit: 1000,
          softFraction: 0.8,
        },
      }),
    ]);
    await expectNoSecrets(org);
  });

  async function createHook(org: Org) {
    const res = await owner.client.post(`${org.base}/webhooks`, {
      url: `https://${HOOK_HOST}/hooks/audit`,
      families: ["deployment"],
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { webhook: { id: string; url: string }; secret: string };
  }

  it("webhook.created: its URL and families; never its signing secret", async () => {
    const org = await newOrg();
    const { webhook, secret } = await createHook(org);
    expect(await recorded(org, "webhook.created")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: null,
        target: { type: "webhook", id: webhook.id, label: webhook.url },
        data: { url: webhook.url, families: ["deployment"], paused: false },
      }),
    ]);
    await expectNoSecrets(org, secret);
  });

  it("webhook.updated: what changed (paused, families)", async () => {
    const org = await newOrg();
    const { webhook, secret } = await createHook(org);
    const res = await owner.client.patch(`${org.base}/webhooks/${webhook.id}`, {
      active: false,
      families: ["deployment", "job"],
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(await recorded(org, "webhook.updated")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: null,
        target: { type: "webhook", id: webhook.id, label: webhook.url },
        data: {
          url: webhook.url,
          families: ["deployment", "job"],
          paused: true,
          changed: ["families", "paused"],
        },
      }),
    ]);
    await expectNoSecrets(org, secret);
  });

  it("webhook.deleted: the webhook as it was", async () => {
    const org = await newOrg();
    const { webhook, secret } = await createHook(org);
    expect((await owner.client.delete(`${org.base}/webhooks/${webhook.id}`)).statusCode).toBe(200);
    expect(await recorded(org, "webhook.deleted")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: null,
        target: { type: "webhook", id: webhook.id, label: webhook.url },
        data: { url: webhook.url, families: ["deployment"], paused: false },
      }),
    ]);
    await expectNoSecrets(org, secret);
  });

  async function createTarget(org: Org) {
    const res = await owner.client.post(`${org.base}/deploy-targets`, {
      kind: "vercel",
      name: "Production",
      token: TARGET_TOKEN,
      teamId: "team_audit",
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string };
  }

  it("deploy_target.created: its kind and name; never its token", async () => {
    const org = await newOrg();
    const target = await createTarget(org);
    expect(await recorded(org, "deploy_target.created")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: null,
        target: { type: "deploy_target", id: target.id, label: "Production" },
        data: { kind: "vercel", name: "Production", teamId: "team_audit" },
      }),
    ]);
    await expectNoSecrets(org, TARGET_TOKEN);
  });

  it("deploy_target.updated: what changed and that the token did, never the new token; a no-op is not recorded", async () => {
    const org = await newOrg();
    const target = await createTarget(org);
    const url = `${org.base}/deploy-targets/${target.id}`;
    expect((await owner.client.patch(url, { name: "Production" })).statusCode).toBe(200);
    expect(await recorded(org, "deploy_target.updated")).toEqual([]);
    const rotated = `${TARGET_TOKEN}-rotated`;
    const res = await owner.client.patch(url, { name: "Prod", token: rotated });
    expect(res.statusCode, res.body).toBe(200);
    expect(await recorded(org, "deploy_target.updated")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        target: { type: "deploy_target", id: target.id, label: "Prod" },
        data: {
          kind: "vercel",
          name: "Prod",
          teamId: "team_audit",
          changed: ["name"],
          keyChanged: true,
          previousName: "Production",
        },
      }),
    ]);
    await expectNoSecrets(org, rotated);
  });

  it("deploy_target.deleted: the target as it was", async () => {
    const org = await newOrg();
    const target = await createTarget(org);
    expect((await owner.client.delete(`${org.base}/deploy-targets/${target.id}`)).statusCode).toBe(200);
    expect(await recorded(org, "deploy_target.deleted")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: null,
        target: { type: "deploy_target", id: target.id, label: "Production" },
        data: { kind: "vercel", name: "Production", teamId: "team_audit" },
      }),
    ]);
    await expectNoSecrets(org, TARGET_TOKEN);
  });

  async function connectHost(org: Org) {
    const res = await owner.client.post(`${org.base}/git-hosts`, {
      kind: "github",
      name: "GitHub",
      token: HOST_TOKEN,
      apiUrl: github.apiUrl,
      gitUrl: github.gitUrl,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; apiUrl: string; gitUrl: string };
  }

  it("git_host.connected: its kind, URLs and account; never its token", async () => {
    const org = await newOrg();
    const host = await connectHost(org);
    expect(await recorded(org, "git_host.connected")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: null,
        target: { type: "git_host", id: host.id, label: "GitHub" },
        data: {
          kind: "github",
          name: "GitHub",
          baseUrl: host.apiUrl,
          gitUrl: host.gitUrl,
          accountName: "octo-audit",
        },
      }),
    ]);
    await expectNoSecrets(org, HOST_TOKEN);
  });

  it("git_host.removed: the host as it was", async () => {
    const org = await newOrg();
    const host = await connectHost(org);
    expect((await owner.client.delete(`${org.base}/git-hosts/${host.id}`)).statusCode).toBe(200);
    expect(await recorded(org, "git_host.removed")).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: null,
        target: { type: "git_host", id: host.id, label: "GitHub" },
        data: expect.objectContaining({ kind: "github", accountName: "octo-audit" }),
      }),
    ]);
    await expectNoSecrets(org, HOST_TOKEN);
  });
});
