import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { SandboxProcess } from "../sandbox/driver.ts";
import { SandboxStdioTransport } from "./sandbox-transport.ts";
import { toolName } from "./toolset.ts";

describe("MCP tool names", () => {
  it("are mcp__<server>__<tool> in the characters every provider accepts, at most 64 long", () => {
    expect(toolName("docs", "search")).toBe("mcp__docs__search");
    expect(toolName("docs", "find.page/v2 now")).toBe("mcp__docs__find_page_v2_now");
    const long = toolName("a_server_name_of_24_char", "x".repeat(80));
    expect(long).toHaveLength(64);
    expect(long).toMatch(/^mcp__a_server_name_of_24_char__x+$/);
  });
});

function fakeProcess() {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let exit!: (v: { exitCode: number | null; signal: null; oomKilled: boolean }) => void;
  const exited = new Promise<{ exitCode: number | null; signal: null; oomKilled: boolean }>((r) => {
    exit = r;
  });
  const proc: SandboxProcess = {
    pid: 1,
    stdin,
    stdout,
    stderr,
    exposePort: () => Promise.reject(new Error("no ports")),
    kill: async () => exit({ exitCode: null, signal: null, oomKilled: false }),
    exited,
  };
  return { proc, stdin, stdout, stderr, exit };
}

describe("the sandbox stdio transport", () => {
  it("speaks newline-delimited JSON-RPC, skips garbage lines, and reports the process's end with its stderr", async () => {
    const f = fakeProcess();
    const t = new SandboxStdioTransport(async () => f.proc);
    const got: unknown[] = [];
    const errors: Error[] = [];
    let closed = 0;
    t.onmessage = (m) => got.push(m);
    t.onerror = (e) => errors.push(e);
    t.onclose = () => closed++;
    await t.start();
    const written: string[] = [];
    f.stdin.on("data", (c: Buffer) => written.push(c.toString()));
    await t.send({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(written.join("")).toBe('{"jsonrpc":"2.0","id":1,"method":"tools/list"}\n');
    f.stdout.write('{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}\nnot json\n{"jsonrpc":"2.0","id":2,');
    f.stdout.write('"result":{}}\n');
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual([
      { jsonrpc: "2.0", id: 1, result: { tools: [] } },
      { jsonrpc: "2.0", id: 2, result: {} },
    ]);
    expect(errors).toHaveLength(1);
    f.stderr.write("boom: out of luck\n");
    await new Promise((r) => setImmediate(r));
    f.exit({ exitCode: 1, signal: null, oomKilled: false });
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(1);
    expect(t.stderrTail).toBe("boom: out of luck");
    await expect(t.send({ jsonrpc: "2.0", id: 3, method: "ping" })).rejects.toThrow(/not running/);
    await t.close();
    expect(closed).toBe(1);
  });
});
