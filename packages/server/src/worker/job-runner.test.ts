import { createDefaultTools } from "@kiln/agent";
import { AGENT_TOOL_NAMES } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { jobTools } from "./job-runner.ts";

const names = (tools: Array<{ name: string }>) => tools.map((t) => t.name).sort();

describe("a job's tools", () => {
  it("are the agent's allowed tools, and nothing else", () => {
    expect(names(jobTools({ tools: ["read_file", "write_file", "list_files"] }, false))).toEqual([
      "list_files",
      "read_file",
      "write_file",
    ]);
    expect(jobTools({ tools: [] }, false)).toEqual([]);
  });

  it("in a review, only the read-only ones among them", () => {
    const review = jobTools({ tools: ["read_file", "write_file", "bash", "grep"] }, true);
    expect(names(review)).toEqual(["grep", "read_file"]);
    expect(review.every((t) => !t.mutates)).toBe(true);
  });

  it("for the built-in (every tool), exactly the default tools, read-only ones in a review", () => {
    const all = createDefaultTools();
    expect(names(jobTools({ tools: [...AGENT_TOOL_NAMES] }, false))).toEqual(names(all));
    expect(names(jobTools({ tools: [...AGENT_TOOL_NAMES] }, true))).toEqual(
      names(all.filter((t) => !t.mutates)),
    );
  });
});
