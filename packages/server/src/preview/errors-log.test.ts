import { describe, expect, it } from "vitest";
import type { LogLine } from "../devserver/log-buffer.ts";
import { extractLogErrors, isErrorStart } from "./errors-log.ts";

let seq = 0;
function lines(text: string, stream: LogLine["stream"] = "stdout"): LogLine[] {
  return text.split("\n").map((t) => ({ seq: ++seq, at: 1_000 + seq, stream, text: t }));
}
const line = (text: string, stream: LogLine["stream"] = "stdout") => lines(text, stream)[0]!;

describe("log error patterns", () => {
  it.each([
    '12:59:55 AM [vite] Internal server error: Failed to resolve import "./nope" from "src/bad.ts".',
    "1:02:03 PM [vite] (client) Pre-transform error: Transform failed with 1 error:",
    "[vite] error while updating dependencies:",
    '✘ [ERROR] Expected ";" but found "x"',
    "[PARSE_ERROR] Unexpected token",
    "src/App.tsx(3,7): error TS2322: Type 'string' is not assignable to type 'number'.",
    "src/App.tsx:3:7 - error TS2322: Type 'string' is not assignable to type 'number'.",
    "TypeError: Cannot read properties of undefined (reading 'map')",
    "Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'express' imported from /workspace/server.js",
    "Uncaught ReferenceError: foo is not defined",
    "SyntaxError: Unexpected token '}'",
    "npm error code ENOENT",
    "npm ERR! missing script: dev",
    "error: unknown option '--prot'",
    "ERROR: something broke",
    "(node:12) UnhandledPromiseRejectionWarning: Unhandled promise rejection",
    "[plugin:vite:react-babel] /workspace/src/App.tsx: Unexpected token (3:4)",
  ])("recognises %s", (text) => {
    expect(isErrorStart(line(text))).toBe(true);
  });

  it.each([
    "12:59:55 AM [vite] hmr update /src/error.tsx",
    "1:00:00 AM [vite] page reload src/ErrorBoundary.tsx",
    "  VITE v8.3.8  ready in 547 ms",
    "Found 0 errors. Watching for file changes.",
    "GET /api/errors 200",
    "compiled ErrorPage component",
    "listening on http://0.0.0.0:3000",
    "warning: something odd",
  ])("ignores %s", (text) => {
    expect(isErrorStart(line(text))).toBe(false);
  });

  it("takes the dev server's crash from the system stream, but not a clean exit or other system lines", () => {
    expect(isErrorStart(line("dev server exited with code 1", "system"))).toBe(true);
    expect(isErrorStart(line("dev server ran out of memory", "system"))).toBe(true);
    expect(isErrorStart(line("failed to start: spawn ENOENT", "system"))).toBe(true);
    expect(isErrorStart(line("dev server exited with code 0", "system"))).toBe(false);
    expect(isErrorStart(line("$ node node_modules/vite/bin/vite.js", "system"))).toBe(false);
    expect(isErrorStart(line("Error: this is Kiln's own line", "system"))).toBe(false);
  });
});

describe("extractLogErrors", () => {
  it("keeps Vite's code frame, plugin, file and stack with its error, and dedupes repeats", () => {
    const vite = `12:59:55 AM [vite] Internal server error: Failed to resolve import "./nope" from "src/bad.ts". Does the file exist?
  Plugin: vite:import-analysis
  File: /workspace/src/bad.ts:1:14
  1  |  import x from "./nope";
     |                 ^
      at TransformPluginContext._formatLog (file:///workspace/node_modules/vite/dist/node/chunks/node.js:8865:39)`;
    const out = extractLogErrors([
      ...lines("  VITE v8.3.8  ready in 547 ms"),
      ...lines(vite),
      ...lines("1:00:01 AM [vite] hmr update /src/App.tsx"),
      ...lines(vite.replace("12:59:55", "1:00:02")),
    ]);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({
      message:
        '[vite] Internal server error: Failed to resolve import "./nope" from "src/bad.ts". Does the file exist?',
      count: 2,
    });
    expect(out[0]!.detail).toContain("Plugin: vite:import-analysis");
    expect(out[0]!.detail).toContain("at TransformPluginContext._formatLog");
    expect(out[0]!.lastAt).toBeGreaterThan(out[0]!.firstAt);
  });

  it("keeps a rolldown parse error's diagnostic and frame with the Vite error around it", () => {
    const out = extractLogErrors(
      lines(`12:59:55 AM [vite] Internal server error: Transform failed with 1 error:

[PARSE_ERROR] Unexpected token
   ╭─[ src/syntax.ts:1:19 ]
   │
 1 │ export const b = (;
───╯

  Plugin: vite:oxc
  File: /workspace/src/syntax.ts
      at transformWithOxc (file:///workspace/node_modules/vite/dist/node/chunks/node.js:7673:19)
12:59:56 AM [vite] hmr update /src/App.tsx`),
    );
    expect(out).toHaveLength(1);
    expect(out[0]!.detail).toContain("[PARSE_ERROR] Unexpected token");
    expect(out[0]!.detail).toContain("Plugin: vite:oxc");
    expect(out[0]!.detail).not.toContain("hmr update");
  });

  it("reads a Node crash: the error and its frames, not the version line after them", () => {
    const out = extractLogErrors([
      ...lines(
        `file:///workspace/server.js:3
foo(
^

ReferenceError: foo is not defined
    at file:///workspace/server.js:3:1
    at ModuleJob.run (node:internal/modules/esm/module_job:271:25)

Node.js v24.21.0`,
        "stderr",
      ),
      ...lines("dev server exited with code 1", "system"),
    ]);
    expect(out.map((e) => e.message)).toEqual([
      "ReferenceError: foo is not defined",
      "dev server exited with code 1",
    ]);
    expect(out[0]!.detail).toBe(
      "    at file:///workspace/server.js:3:1\n    at ModuleJob.run (node:internal/modules/esm/module_job:271:25)",
    );
  });

  it("bounds the detail of an endless stack and does not read its tail as new errors", () => {
    const frames = Array.from({ length: 500 }, (_, i) => `    at f${i} (file.js:${i}:1)`).join("\n");
    const out = extractLogErrors(lines(`RangeError: Maximum call stack size exceeded\n${frames}`));
    expect(out).toHaveLength(1);
    expect(out[0]!.detail.split("\n")).toHaveLength(40);
  });
});
