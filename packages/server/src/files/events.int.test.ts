import { mkdir, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { ACCESS_COOKIE, type Role } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";
import { readSse, type SseMessage } from "../testing/sse.ts";

let kiln: TestKiln;
let http: string;
let owner: SignedUp;
let org: { id: string; slug: string };
let project: { id: string; slug: string };
let dir: string;

beforeAll(async () => {
  kiln = await startTestKiln();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  http = `http://127.0.0.1:${(kiln.app.server.address() as AddressInfo).port}`;
  owner = await kiln.signup();
  org = (await owner.client.post("/api/orgs", { name: "Events", slug: uniqueSlug("events") })).json();
  project = (await owner.client.post(`/api/orgs/${org.slug}/projects`, { name: "Main" })).json();
  dir = kiln.storage.projectDir(org.id, project.id);
}, 120_000);
afterAll(() => kiln?.stop());

const eventsUrl = (p = project.slug, o = org.slug) => `${http}/api/orgs/${o}/projects/${p}/files/events`;
const cookieOf = (c: TestClient) => ({ cookie: `${ACCESS_COOKIE}=${c.cookies.get(ACCESS_COOKIE)!.value}` });
type Message = { seq: number; event: { type: string; paths: string[]; overflow: boolean } };
const changed = (events: SseMessage[]) =>
  new Set(events.flatMap((e) => (e.event === "changed" ? (e.data as Message).event.paths : [])));

/**
 * Opens the stream as `client`, runs `act` once it says `ready`, and reads until `paths` were all reported.
 */
async function watchWhile(client: TestClient, act: () => Promise<void>, paths: string[]) {
  let acted = false;
  return readSse(eventsUrl(), {
    headers: cookieOf(client),
    timeoutMs: 10_000,
    until: (events) => {
      if (!acted && events.some((e) => e.event === "ready")) {
        acted = true;
        void act();
      }
      const seen = changed(events);
      return paths.every((p) => seen.has(p));
    },
  });
}

async function join(role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await owner.client.post(`/api/orgs/${org.slug}/invitations`, {
    email: member.user.email,
    role,
  });
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  expect((await member.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);
  return member;
}

describe("file events", () => {
  it("streams changes made through the file API and by processes writing the directory directly", async () => {
    const result = await watchWhile(owner.client, async () => {
      // The editor or the agent, through the API.
      await owner.client.put(`/api/orgs/${org.slug}/projects/${project.slug}/files/content`, {
        path: "src/App.tsx",
        content: "export const App = () => null;\n",
      });
      // A command in the sandbox (the agent's bash, the terminal, npm): straight to the directory.
      await mkdir(path.join(dir, "src/generated"), { recursive: true });
      await new Promise((r) => setTimeout(r, 100));
      await writeFile(path.join(dir, "src/generated/routes.ts"), "export {};\n");
    }, ["src/App.tsx", "src/generated", "src/generated/routes.ts"]);
    expect(result.status).toBe(200);
    expect(result.ended).toBe(false);
    const [first, ...rest] = result.events;
    expect(first).toMatchObject({ event: "ready", data: { event: { type: "ready" } } });
    // Numbered, so the browser's EventSource has ids; the API's temp files are not reported.
    expect(rest.every((e, i) => e.id === i + 2)).toBe(true);
    expect([...changed(result.events)].some((p) => p.includes(".kiln-"))).toBe(false);
    // The last listener gone, the project is not watched any more.
    const end = Date.now() + 2_000;
    while (kiln.services.fileWatches.watching > 0 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    expect(kiln.services.fileWatches.watching).toBe(0);
  });

  it("is for members who can see the project: viewers yes, strangers, other orgs and anonymous callers no", async () => {
    const viewer = await join("viewer");
    const seen = await watchWhile(viewer.client, () => writeFile(path.join(dir, "viewer.txt"), "x"), [
      "viewer.txt",
    ]);
    expect(seen.status).toBe(200);

    const stranger = await kiln.signup();
    const refused = await readSse(eventsUrl(), { headers: cookieOf(stranger.client), timeoutMs: 5_000 });
    expect(refused.status).toBe(404);
    const theirs = (
      await stranger.client.post(`/api/orgs/${stranger.personalOrg.slug}/projects`, { name: "Theirs" })
    ).json();
    // The owner asks for the stranger's project under their own org, and under the stranger's org.
    for (const url of [eventsUrl(theirs.id), eventsUrl(theirs.slug, stranger.personalOrg.slug)]) {
      expect((await readSse(url, { headers: cookieOf(owner.client), timeoutMs: 5_000 })).status).toBe(404);
    }
    expect((await readSse(eventsUrl(), { timeoutMs: 5_000 })).status).toBe(401);
    for (const hostile of ["..%2F..%2Fetc", "%00", "x".repeat(300)]) {
      const status = (
        await readSse(eventsUrl(hostile), { headers: cookieOf(owner.client), timeoutMs: 5_000 })
      ).status;
      expect([400, 404]).toContain(status);
    }
    // Asked for as JSON: a clear refusal, not a stream that never ends.
    const plain = await owner.client.get(`/api/orgs/${org.slug}/projects/${project.slug}/files/events`);
    expect([plain.statusCode, plain.json().error.code]).toEqual([406, "not_acceptable"]);
    expect(kiln.services.fileWatches.watching).toBe(0);
  });
});
