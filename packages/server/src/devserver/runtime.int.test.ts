import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SignedUp, startTestKiln, type TestKiln, uniqueSlug } from "../testing/harness.ts";

let kiln: TestKiln;
let port: number;
let owner: SignedUp;
let org: string;

beforeAll(async () => {
  kiln = await startTestKiln();
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  port = (kiln.app.server.address() as AddressInfo).port;
  owner = await kiln.signup();
  org = uniqueSlug("org");
  await owner.client.post("/api/orgs", { name: "Runtime", slug: org });
}, 120_000);
afterAll(() => kiln?.stop());

function cookieHeader(): string {
  return [...owner.client.cookies].map(([k, v]) => `${k}=${v.value}`).join("; ");
}

interface SseEvent {
  id: number;
  data: { seq: number; stream: string; text: string };
}

/** Reads server-sent events until `stop` says enough, like an EventSource that remembers Last-Event-ID. */
function readEvents(
  path: string,
  stop: (events: SseEvent[]) => boolean,
  lastEventId?: number,
): Promise<SseEvent[]> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: "text/event-stream", cookie: cookieHeader() };
    if (lastEventId !== undefined) headers["last-event-id"] = String(lastEventId);
    const req = http.get({ host: "127.0.0.1", port, path, headers }, (res) => {
      expect(res.headers["content-type"]).toContain("text/event-stream");
      const events: SseEvent[] = [];
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (\d+)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id && data) events.push({ id: Number(id), data: JSON.parse(data) });
          end = buffer.indexOf("\n\n");
        }
        if (stop(events)) {
          req.destroy();
          resolve(events);
        }
      });
    });
    req.on("error", (err) => (err.message.includes("aborted") ? undefined : reject(err)));
    setTimeout(() => {
      req.destroy();
      reject(new Error("no matching events in time"));
    }, 60_000).unref();
  });
}

describe("runtime API", () => {
  it("starts, streams logs live with resume, restarts and stops the dev server", async () => {
    const slug = (
      await owner.client.post(`/api/orgs/${org}/projects`, { name: "Logs", template: "static" })
    ).json().slug;
    const base = `/api/orgs/${org}/projects/${slug}/runtime`;
    expect((await owner.client.get(base)).json().state).toBe("stopped");

    const started = await owner.client.post(`${base}/start`);
    expect(started.statusCode).toBe(200);
    expect(["starting", "running"]).toContain(started.json().state);

    const live = await readEvents(`${base}/logs`, (events) =>
      events.some((e) => e.data.text.includes("dev server is answering")),
    );
    expect(live[0]!.data.text).toMatch(/^\$ /);
    const seqs = live.map((e) => e.id);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // A reconnecting client sends Last-Event-ID and gets only what came after it.
    const restarted = await owner.client.post(`${base}/restart`);
    expect(restarted.statusCode).toBe(200);
    const lastSeen = live.at(-1)!.id;
    const resumed = await readEvents(
      `${base}/logs`,
      (events) => events.some((e) => e.data.text.includes("dev server is answering")),
      lastSeen,
    );
    expect(resumed.every((e) => e.id > lastSeen)).toBe(true);
    expect(resumed.some((e) => e.data.text === "Stopped")).toBe(true);

    const json = await owner.client.get(`${base}/logs?since=${lastSeen}`);
    expect(json.json().every((l: { seq: number }) => l.seq > lastSeen)).toBe(true);

    const stopped = await owner.client.post(`${base}/stop`);
    expect(stopped.json()).toMatchObject({ state: "stopped", detail: "Stopped" });
  }, 120_000);

  it("starts the dev server at creation when asked, and only then", async () => {
    const create = (startDevServer?: boolean) =>
      owner.client.post(`/api/orgs/${org}/projects`, { name: "Eager", template: "static", startDevServer });
    const eager = (await create(true)).json().slug;
    const lazy = (await create()).json().slug;
    const state = async (slug: string) =>
      (await owner.client.get(`/api/orgs/${org}/projects/${slug}/runtime`)).json().state;
    expect(["starting", "running"]).toContain(await state(eager));
    expect(await state(lazy)).toBe("stopped");
    expect((await create("yes" as unknown as boolean)).statusCode).toBe(400);
    await owner.client.post(`/api/orgs/${org}/projects/${eager}/runtime/stop`);
  }, 60_000);

  it("refuses bad input on the runtime routes", async () => {
    const slug = (
      await owner.client.post(`/api/orgs/${org}/projects`, { name: "Bad", template: "static" })
    ).json().slug;
    const base = `/api/orgs/${org}/projects/${slug}/runtime`;
    expect((await owner.client.post(`${base}/explode`)).statusCode).toBe(404);
    const since = await owner.client.get(`${base}/logs?since=-1`);
    expect(since.statusCode).toBe(400);
    expect(since.json().error.code).toBe("validation_failed");
    expect((await owner.client.get(`${base}/logs?since=1&extra=1`)).statusCode).toBe(400);
    expect((await owner.client.post(`/api/orgs/${org}/projects/nope/runtime/start`)).json().error.code).toBe(
      "project_not_found",
    );
  });
});

describe("public previews", () => {
  it("only an admin may open a project's preview to the public", async () => {
    const slug = (
      await owner.client.post(`/api/orgs/${org}/projects`, { name: "Pub", template: "static" })
    ).json().slug;
    const dev = await kiln.signup();
    const invite = await owner.client.post(`/api/orgs/${org}/invitations`, {
      email: dev.user.email,
      role: "developer",
    });
    const token = invite.json().url.split("/invite/")[1];
    expect((await dev.client.post(`/api/invitations/${token}/accept`)).statusCode).toBe(200);

    const denied = await dev.client.patch(`/api/orgs/${org}/projects/${slug}`, { previewPublic: true });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.code).toBe("forbidden");
    // The rest of the project stays editable for a developer.
    expect(
      (await dev.client.patch(`/api/orgs/${org}/projects/${slug}`, { description: "x" })).statusCode,
    ).toBe(200);
    const allowed = await owner.client.patch(`/api/orgs/${org}/projects/${slug}`, { previewPublic: true });
    expect(allowed.json().previewPublic).toBe(true);
  });
});
