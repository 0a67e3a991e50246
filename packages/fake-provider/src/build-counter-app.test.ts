import { readFileSync } from "node:fs";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { type LanguageModel, stepCountIs, streamText, tool } from "ai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { COUNTER_APP_SUMMARY, COUNTER_IMPORT, fileContent, withCounter } from "./build-counter-app.ts";
import { type FakeProvider, HABIT_TRACKER_SUMMARY, scenarios, startFakeProvider } from "./index.ts";

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const TEMPLATE = new URL("../../../templates/react-vite/", import.meta.url);
const templateFiles = () =>
  new Map(
    ["src/App.tsx", "src/main.tsx", "index.html", "package.json"].map((p) => [
      p,
      readFileSync(new URL(p, TEMPLATE), "utf8"),
    ]),
  );

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(() => fake.close());
beforeEach(() => {
  fake.reset();
  fake.setResponder(scenarios["build-counter-app"]!());
});

interface ToolOptions {
  /** Number lines in read_file output like many agents' tools do. */
  numbered?: boolean;
  /** Make every edit fail, to drive the whole-file fallback. */
  brokenEdit?: boolean;
}

/** The agent's tools over an in-memory file map (a stand-in for the real workspace). */
function makeTools(files: Map<string, string>, options: ToolOptions = {}) {
  return {
    list_files: tool({
      description: "List files",
      inputSchema: z.object({ path: z.string() }),
      execute: async () => [...files.keys()].sort().join("\n"),
    }),
    read_file: tool({
      description: "Read a file",
      inputSchema: z.object({ path: z.string() }),
      execute: async ({ path }) => {
        const content = files.get(path);
        if (content === undefined) throw new Error(`file not found: ${path}`);
        if (!options.numbered) return content;
        return content
          .split("\n")
          .map((line, i) => `${String(i + 1).padStart(6)}\t${line}`)
          .join("\n");
      },
    }),
    write_file: tool({
      description: "Write a file",
      inputSchema: z.object({ path: z.string(), content: z.string() }),
      execute: async ({ path, content }) => {
        files.set(path, content);
        return `Wrote ${path}`;
      },
    }),
    edit_file: tool({
      description: "Replace one occurrence of old_string",
      inputSchema: z.object({ path: z.string(), old_string: z.string(), new_string: z.string() }),
      execute: async ({ path, old_string, new_string }) => {
        const content = files.get(path) ?? "";
        if (options.brokenEdit || content.split(old_string).length !== 2) {
          throw new Error("old_string not found exactly once");
        }
        files.set(
          path,
          content.replace(old_string, () => new_string),
        );
        return `Edited ${path}`;
      },
    }),
    bash: tool({
      description: "Run a command",
      inputSchema: z.object({ command: z.string() }),
      execute: async () =>
        [...files.keys()]
          .filter((p) => p.startsWith("src/"))
          .map((p) => p.slice(4))
          .join("\n"),
    }),
  };
}

async function runAgent(model: LanguageModel, files: Map<string, string>, options?: ToolOptions) {
  const result = streamText({
    model,
    system: "You are a coding agent.",
    prompt: "Add a counter to my app",
    tools: makeTools(files, options),
    stopWhen: stepCountIs(12),
  });
  const calls: string[] = [];
  for await (const part of result.fullStream) {
    if (part.type === "tool-call") calls.push(part.toolName);
    if (part.type === "error") throw part.error;
  }
  return { calls, text: await result.text };
}

const models: Array<[string, () => LanguageModel]> = [
  [
    "openai-compatible",
    () => createOpenAICompatible({ name: "fake", baseURL: `${fake.url}/v1` })("fake-model"),
  ],
  ["anthropic", () => createAnthropic({ baseURL: `${fake.url}/v1`, apiKey: "k" })("claude-fake")],
  ["openai responses", () => createOpenAI({ baseURL: `${fake.url}/v1`, apiKey: "k" })("gpt-fake")],
];

describe.each(models)("build-counter-app via %s", (_name, model) => {
  it("drives the agent through list, write, read, two edits, bash and a summary", async () => {
    const files = templateFiles();
    const { calls, text } = await runAgent(model(), files);
    expect(calls).toEqual(["list_files", "write_file", "read_file", "edit_file", "edit_file", "bash"]);
    expect(text).toBe(COUNTER_APP_SUMMARY);
    expect(files.get("src/Counter.tsx")).toContain("Count: {count}");
    const app = files.get("src/App.tsx")!;
    expect(app).toContain(COUNTER_IMPORT);
    expect(app).toMatch(/<\/h1>\n\s+<Counter \/>/);
    expect(app.replace(`\n${COUNTER_IMPORT}`, "").replace(/\n\s+<Counter \/>/, "")).toBe(
      templateFiles().get("src/App.tsx"),
    );
  });

  it("works from line-numbered read_file output and falls back to a whole-file write when edits fail", async () => {
    const files = templateFiles();
    const { calls } = await runAgent(model(), files, { numbered: true, brokenEdit: true });
    expect(calls).toEqual(["list_files", "write_file", "read_file", "edit_file", "write_file", "bash"]);
    expect(files.get("src/App.tsx")).toBe(withCounter(templateFiles().get("src/App.tsx")!));
  });
});

describe("build-counter-app helpers", () => {
  it("strips line numbers only when the output is numbered", () => {
    expect(fileContent("     1\tconst a = 1;\n     2\t  <h1>x</h1>")).toBe("const a = 1;\n  <h1>x</h1>");
    expect(fileContent("00001| a\n00002| b")).toBe("a\nb");
    expect(fileContent("plain\ntext 2: here")).toBe("plain\ntext 2: here");
    expect(fileContent(JSON.stringify({ content: "from json" }))).toBe("from json");
  });

  it("starts over in a new turn and skips edits already in the file", async () => {
    const files = templateFiles();
    await runAgent(models[0]![1](), files);
    const once = files.get("src/App.tsx");
    fake.reset();
    fake.setResponder(scenarios["build-counter-app"]!());
    const { calls } = await runAgent(models[0]![1](), files);
    expect(calls).toEqual(["list_files", "write_file", "read_file", "bash"]);
    expect(files.get("src/App.tsx")).toBe(once);
  });
});

describe.each(models)("build-habit-tracker via %s", (_name, model) => {
  it("lists, writes the tracker, writes App.tsx and sums up", async () => {
    fake.setResponder(scenarios["build-habit-tracker"]!());
    const files = templateFiles();
    const { calls, text } = await runAgent(model(), files);
    expect(calls).toEqual(["list_files", "write_file", "write_file"]);
    expect(text).toBe(HABIT_TRACKER_SUMMARY);
    expect(files.get("src/HabitTracker.tsx")).toContain("Best streak");
    expect(files.get("src/App.tsx")).toContain("<HabitTracker />");
  });
});
