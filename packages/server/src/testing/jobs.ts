import { randomBytes } from "node:crypto";
import type { WorkerClientMessage, WorkerServerMessage } from "@kiln/protocol";
import pg from "pg";
import { WebSocket } from "ws";
import { type Database, openDatabase } from "../db/client.ts";
import { pgliteTemplate, testDbKind } from "./harness.ts";
import { ADMIN_URL } from "./postgres-setup.ts";

/**
 * Test support for the job queue (not shipped code). A database of the test file's own: an instance-wide
 * worker takes any org's jobs, so on the run's shared PostgreSQL it would take other files' jobs too.
 */
export async function isolatedDatabase(): Promise<{ database: Database; drop(): Promise<void> }> {
  if (testDbKind() === "pglite") {
    const database = await openDatabase({ pgliteDump: await pgliteTemplate() });
    return { database, drop: () => database.close() };
  }
  const name = `kiln_test_jobs_${randomBytes(5).toString("hex")}`;
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ databaseUrl: url.toString(), poolSize: 8 });
  return {
    database,
    async drop() {
      await database.close();
      await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** A worker's side of the socket, as small as a test needs: send messages, wait for answers. */
export class TestWorker {
  readonly ws: WebSocket;
  readonly received: WorkerServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<() => void> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data) => {
      this.received.push(JSON.parse(String(data)));
      for (const w of this.#waiters.splice(0)) w();
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => {
        resolve({ code, reason: String(reason) });
        for (const w of this.#waiters.splice(0)) w();
      }),
    );
  }

  /** Opens the socket; rejects with the HTTP status when the server refuses the upgrade. */
  static connect(url: string, token: string | undefined): Promise<TestWorker> {
    const ws = new WebSocket(url, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    const worker = new TestWorker(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(worker));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (c: Buffer) => {
          body += c;
        });
        res.on("end", () =>
          reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })),
        );
      });
      ws.once("error", reject);
    });
  }

  send(message: WorkerClientMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** The first message from index `since` on that matches; waits for it. */
  async waitFor<T extends WorkerServerMessage["type"]>(
    type: T,
    match: (m: Extract<WorkerServerMessage, { type: T }>) => boolean = () => true,
    since = 0,
    timeoutMs = 15_000,
  ): Promise<Extract<WorkerServerMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.received
        .slice(since)
        .find((m): m is Extract<WorkerServerMessage, { type: T }> => m.type === type && match(m as never));
      if (found) return found;
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${type}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no ${type} message in time; got ${JSON.stringify(this.received.slice(since)).slice(0, 2000)}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async register(
    input: {
      name?: string;
      concurrency?: number;
      workerId?: string;
      jobs?: Array<{ jobId: string; attempt: number }>;
      /** The worker protocol to speak; absent: 1, as workers from before agents register. */
      protocol?: number;
    } = {},
  ) {
    const since = this.received.length;
    this.send({
      type: "register",
      name: input.name ?? "test worker",
      concurrency: input.concurrency ?? 1,
      version: "0.0.1",
      ...(input.protocol ? { protocol: input.protocol } : {}),
      ...(input.workerId ? { workerId: input.workerId } : {}),
      ...(input.jobs ? { jobs: input.jobs } : {}),
    });
    return this.waitFor("registered", () => true, since);
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }

  /** Drops the connection without a closing handshake, as a killed process or a cut cable would. */
  terminate(): Promise<{ code: number; reason: string }> {
    this.ws.terminate();
    return this.closed;
  }
}
