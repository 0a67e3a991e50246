import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FastifyBaseLogger } from "fastify";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { Outbox } from "./outbox.ts";

/**
 * The outbox's own rules, with `write` standing in for a database (the real database drives
 * llm/call-log.int.test.ts): order and grouping, backoff with one log line per outage, a bounded close.
 */

interface Row {
  id: number;
  group: string;
}

function capturingLog(): { log: FastifyBaseLogger; lines: { msg: string }[] } {
  const lines: { msg: string }[] = [];
  const log = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log: log as unknown as FastifyBaseLogger, lines };
}

async function outbox(write: (group: string, rows: Row[]) => Promise<void>) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "kiln-outbox-unit-"));
  const { log, lines } = capturingLog();
  const box = new Outbox<Row>({
    what: "test rows",
    file: path.join(dir, "outbox", "rows.jsonl"),
    write,
    groupOf: (row) => row.group,
    parse: (value) => value as Row,
    log,
    retry: { firstMs: 1, maxMs: 5 },
  });
  return { box, lines, file: path.join(dir, "outbox", "rows.jsonl") };
}

const refused = () =>
  Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });

describe("Outbox", () => {
  it("writes in order, one batch per group", async () => {
    const writes: [string, number[]][] = [];
    const { box } = await outbox(async (group, rows) => {
      writes.push([group, rows.map((r) => r.id)]);
    });
    for (let id = 0; id < 5; id++) box.push({ id, group: id % 2 ? "b" : "a" });
    await box.flush();
    // The first push starts a write of its own; the rest wait for it and go together.
    expect(writes).toEqual([
      ["a", [0]],
      ["b", [1, 3]],
      ["a", [2, 4]],
    ]);
  });

  it("retries while the database refuses connections; logs the outage once and the recovery once", async () => {
    let failures = 0;
    const written: number[] = [];
    const { box, lines } = await outbox(async (_group, rows) => {
      if (failures++ < 5) throw refused();
      written.push(...rows.map((r) => r.id));
    });
    for (let id = 0; id < 3; id++) box.push({ id, group: "a" });
    await box.flush();
    expect(written.sort()).toEqual([0, 1, 2]);
    expect(lines.map((l) => l.msg)).toEqual([
      "database unavailable; 3 test rows waiting",
      "test rows written after outage",
    ]);
  });

  it("close gives a hung write a bounded time, then leaves every row in the file", async () => {
    const { box, lines, file } = await outbox(() => new Promise(() => {}));
    for (let id = 0; id < 4; id++) box.push({ id, group: "a" });
    await box.close(50);
    const rows = (await readFile(file, "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Row);
    expect(rows.map((r) => r.id)).toEqual([0, 1, 2, 3]);
    expect(lines.map((l) => l.msg)).toEqual(["test rows left for the next start"]);
  });
});
