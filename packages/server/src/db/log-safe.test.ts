import { Writable } from "node:stream";
import { DrizzleQueryError } from "drizzle-orm/errors";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { loggerOptions } from "./log-safe.ts";

function capture(): { logger: pino.Logger; text: () => string } {
  let out = "";
  const sink = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  return { logger: pino(loggerOptions("info"), sink), text: () => out };
}

describe("logged errors", () => {
  it("keep a failed query's SQL but none of its parameters, nor PostgreSQL's detail", () => {
    const secret = "sha256:9f86d081884c7d659a2feaa0c55ad015";
    const cause = Object.assign(
      new Error('duplicate key value violates unique constraint "api_tokens_pkey"'),
      {
        code: "23505",
        detail: `Key (token_hash)=(${secret}) already exists.`,
      },
    );
    const err = new DrizzleQueryError(
      "select * from api_tokens where token_hash = $1",
      [secret, "llm:org:5"],
      cause,
    );
    const { logger, text } = capture();
    logger.error({ err }, "lookup failed");
    const line = JSON.parse(text());
    expect(text()).not.toContain(secret);
    expect(text()).not.toContain("llm:org:5");
    expect(line.err.message).toContain("select * from api_tokens where token_hash = $1");
    expect(JSON.stringify(line.err)).toContain("duplicate key value violates unique constraint");
  });

  it("leave other errors as pino writes them", () => {
    const { logger, text } = capture();
    logger.warn({ err: new TypeError("bad thing") }, "x");
    const line = JSON.parse(text());
    expect(line.err).toMatchObject({ type: "TypeError", message: "bad thing" });
    expect(line.err.stack).toContain("TypeError: bad thing");
  });
});
