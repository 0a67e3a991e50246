import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestClient } from "../testing/client.ts";
import { type SignedUp, startTestKiln, type TestKiln } from "../testing/harness.ts";
import { openSse } from "../testing/sse.ts";

/**
 * Every live stream answers a foreign or missing id with the same 404 as the rest of the API, before the
 * stream starts. A chat turn's stream used to check the chat only after sending its 200: another org's
 * chat got a 200 with an `internal_error` event and a stack trace in the server's log.
 */

interface Tenant {
  user: SignedUp;
  org: string;
  project: { id: string; slug: string };
  chat: string;
  message: string;
  job: string;
}

let fake: FakeProvider;
let kiln: TestKiln;
let http: string;
let a: Tenant;
let b: Tenant;
/** Everything the server logs at warn and above. */
const logged: Array<{ level: number; msg?: string; err?: { stack?: string } }> = [];

beforeAll(async () => {
  fake = await startFakeProvider();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) logged.push(JSON.parse(line));
      done();
    },
  });
  kiln = await startTestKiln({
    env: {
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
      KILN_JOB_SWEEP_SECONDS: "0",
    },
    logger: pino({ level: "warn" }, sink) as FastifyBaseLogger,
  });
  await kiln.app.listen({ port: 0, host: "127.0.0.1" });
  http = `http://127.0.0.1:${(kiln.app.server.address() as AddressInfo).port}`;
  a = await tenant();
  b = await tenant();
}, 120_000);

afterAll(async () => {
  await kiln?.stop();
  await fake?.close();
});

/** A user with a project, a finished chat turn and a queued job. */
async function tenant(): Promise<Tenant> {
  const user = await kiln.signup();
  const org = user.personalOrg.slug;
  const project = (await user.client.post(`/api/orgs/${org}/projects`, { name: "Mine" })).json();
  const chat = (await user.client.post(`/api/orgs/${org}/projects/${project.slug}/chats`, {})).json().id;
  fake.enqueue({ text: "hello" });
  const sent = await user.client.post(`/api/orgs/${org}/projects/${project.slug}/chats/${chat}/messages`, {
    content: "hi",
  });
  expect(sent.statusCode).toBe(202);
  const job = await user.client.post(`/api/orgs/${org}/projects/${project.slug}/jobs`, {
    kind: "review",
    instructions: "look",
  });
  return {
    user,
    org,
    project: { id: project.id, slug: project.slug },
    chat,
    message: sent.json().assistantMessage.id,
    job: job.json().id,
  };
}

const cookieOf = (client: TestClient) => ({
  cookie: [...client.cookies].map(([k, v]) => `${k}=${v.value}`).join("; "),
});

/** Each live route, for the ids of `owner` asked under the org and project `under`. */
function streams(
  owner: Tenant,
  under: { org: string; project: string },
): { chat: string; job: string; files: string; logs: string } {
  const p = `/api/orgs/${under.org}/projects/${under.project}`;
  return {
    chat: `${p}/chats/${owner.chat}/messages/${owner.message}/events`,
    job: `/api/orgs/${under.org}/jobs/${owner.job}/events`,
    files: `${p}/files/events`,
    logs: `${p}/runtime/logs`,
  };
}

describe("live streams of another tenant", () => {
  it("the owner streams their own (the routes work)", async () => {
    for (const [name, url] of Object.entries(streams(a, { org: a.org, project: a.project.slug }))) {
      const s = await openSse(`${http}${url}`, cookieOf(a.user.client));
      expect(s.status, name).toBe(200);
      s.close();
    }
  });

  it("are 404 before any stream starts, with nothing logged as an error", async () => {
    const asked = [
      // B's ids inside A's own org and project, where A may read.
      streams(b, { org: a.org, project: a.project.slug }),
      // B's project by id inside A's org.
      streams(b, { org: a.org, project: b.project.id }),
      // B's org outright.
      streams(b, { org: b.org, project: b.project.slug }),
      // Ids that exist nowhere.
      streams(
        { ...b, chat: crypto.randomUUID(), message: crypto.randomUUID(), job: crypto.randomUUID() },
        { org: a.org, project: a.project.slug },
      ),
    ];
    const before = logged.length;
    for (const routes of asked) {
      for (const [name, url] of Object.entries(routes)) {
        const s = await openSse(`${http}${url}`, cookieOf(a.user.client));
        // Files and logs of A's own project are A's: only the foreign ids in them are refused.
        if ((name === "files" || name === "logs") && url.includes(`/projects/${a.project.slug}/`)) {
          s.close();
          continue;
        }
        expect([name, url, s.status], JSON.stringify(s.events)).toEqual([name, url, 404]);
        expect((s.refusal as { error: { code: string } }).error.code, url).toMatch(/_not_found$/);
      }
    }
    expect(logged.slice(before).filter((l) => l.level >= 50 || l.err?.stack)).toEqual([]);
  });

  it("the JSON form of a foreign chat turn's events is a 404 too", async () => {
    const url = streams(b, { org: a.org, project: a.project.slug }).chat;
    const res = await a.user.client.get(url);
    expect([res.statusCode, res.json().error.code]).toEqual([404, "chat_not_found"]);
  });
});
