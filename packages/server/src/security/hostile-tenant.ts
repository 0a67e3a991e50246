import type { AddressInfo } from "node:net";
import { expect } from "vitest";
import { WebSocket } from "ws";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

/** Test support for the hostile-tenant suite: a Kiln on a real port, tenants, and a shell in a sandbox. */

export interface HostileBed {
  kiln: TestKiln;
  port: number;
  /** A new user with a new org: a tenant of their own. */
  tenant(): Promise<Tenant>;
}

export interface Tenant {
  user: SignedUp;
  org: { id: string; slug: string };
  project(name: string, template?: string): Promise<TenantProject>;
}

export interface TenantProject {
  id: string;
  slug: string;
  dir: string;
  /** `/api/orgs/<org>/projects/<project>/files`. */
  files: string;
  client: TestClient;
}

export async function startHostileBed(): Promise<HostileBed> {
  const kiln = await startTestKiln();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  const port = (kiln.app.server.address() as AddressInfo).port;
  return {
    kiln,
    port,
    async tenant() {
      const user = await kiln.signup();
      const org = (
        await user.client.post("/api/orgs", { name: "Tenant", slug: uniqueSlug("tenant") })
      ).json();
      return {
        user,
        org,
        async project(name, template) {
          const res = await user.client.post(`/api/orgs/${org.slug}/projects`, {
            name,
            ...(template ? { template } : {}),
          });
          expect(res.statusCode, res.body).toBe(201);
          const p = res.json();
          return {
            id: p.id,
            slug: p.slug,
            dir: kiln.storage.projectDir(org.id, p.id),
            files: `/api/orgs/${org.slug}/projects/${p.slug}/files`,
            client: user.client,
          };
        },
      };
    },
  };
}

export interface Shell {
  type(text: string): void;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  close(): void;
}

/** A terminal in the project's sandbox, opened and driven like the studio's browser tab does. */
export async function openShell(bed: HostileBed, org: string, project: TenantProject): Promise<Shell> {
  const base = `/api/orgs/${org}/projects/${project.slug}/terminals`;
  const created = await project.client.post(base, {});
  expect(created.statusCode, created.body).toBe(201);
  const cookie = [...project.client.cookies].map(([name, c]) => `${name}=${c.value}`).join("; ");
  const ws = new WebSocket(`ws://127.0.0.1:${bed.port}${base}/${created.json().id}/socket`, {
    headers: { cookie, origin: "http://localhost:4000" },
  });
  let text = "";
  ws.on("message", (data) => {
    const message = JSON.parse(String(data));
    if (message.type === "output") text += message.data;
  });
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return {
    type: (data) => ws.send(JSON.stringify({ type: "input", data })),
    output: () => text,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = pattern.exec(text);
        if (match) return match[0];
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`timed out waiting for ${pattern}; output so far:\n${text}`);
    },
    close: () => ws.close(),
  };
}
