import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type FakeProvider, startFakeProvider } from "@kiln/fake-provider";
import type { Job } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../testing/free-port.ts";
import { uniqueEmail, uniqueSlug } from "../testing/harness.ts";
import { freshDatabase, type ServerProcess, signUp, startServerProcess } from "../testing/processes.ts";

/**
 * `kiln start` listening on one address that is not 127.0.0.1, with no KILN_PUBLIC_URL: its embedded worker
 * must still find it (it used to dial 127.0.0.1 and retry forever), and the URLs it hands out (git clone,
 * model proxy) must be that address, not `localhost`.
 */

let db: Awaited<ReturnType<typeof freshDatabase>> | undefined;
let fake: FakeProvider | undefined;
let server: ServerProcess | undefined;
let dataDir: string | undefined;

beforeAll(async () => {
  db = await freshDatabase();
  fake = await startFakeProvider();
  dataDir = await mkdtemp(path.join(os.tmpdir(), "kiln-sys-embedded-"));
  server = await startServerProcess({
    dataDir,
    port: await freePort(),
    // Loopback, but not the address a worker would guess: all of 127.0.0.0/8 is local on Linux.
    host: "127.0.0.2",
    env: {
      DATABASE_URL: db.url,
      KILN_EMBEDDED_WORKERS: "1",
      KILN_PUBLIC_URL: "",
      OPENAI_BASE_URL: `${fake.url}/v1`,
      OPENAI_API_KEY: "fake-key",
      KILN_MODEL: "openai/fake-model",
    },
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await fake?.close();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("kiln start on one address", () => {
  it("runs jobs with its embedded worker", async () => {
    const owner = await signUp(server!.url, uniqueEmail("embedded"));
    const org = uniqueSlug("org");
    expect((await owner.call("POST", "/api/orgs", { name: "Bound", slug: org })).status).toBe(201);
    const project = (
      await owner.call("POST", `/api/orgs/${org}/projects`, { name: "Bound", template: "static" })
    ).json;
    fake!.enqueue(
      { toolCalls: [{ name: "write_file", arguments: { path: "bound.txt", content: "bound\n" } }] },
      { text: "Wrote bound.txt." },
    );
    const started = await owner.call("POST", `/api/orgs/${org}/projects/${project.slug}/jobs`, {
      kind: "implement",
      instructions: "Write bound.txt",
    });
    expect(started.status).toBe(201);
    const end = Date.now() + 45_000;
    let job: Job | undefined;
    while (Date.now() < end) {
      job = (await owner.call("GET", `/api/orgs/${org}/jobs/${started.json.id}`)).json;
      if (job && ["completed", "failed", "cancelled"].includes(job.state)) break;
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(job?.state, `${JSON.stringify(job)}\n${server!.output().slice(-3000)}`).toBe("completed");
    expect(job!.result).toMatchObject({ summary: "Wrote bound.txt.", branch: `kiln/job-${job!.id}` });
  });
});
