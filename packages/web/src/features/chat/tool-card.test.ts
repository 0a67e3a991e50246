import { describe, expect, it } from "vitest";
import { refusedByAgent, writingLine } from "./tool-card.tsx";

describe("writingLine", () => {
  it("names the file once its path is known, the tool before", () => {
    expect(writingLine({ toolName: "write_file", input: {} })).toBe("Preparing write_file…");
    expect(writingLine({ toolName: "write_file", input: { path: "src/App.tsx" }, inputChars: 1530 })).toBe(
      "Writing src/App.tsx… (1.5k chars)",
    );
    expect(writingLine({ toolName: "bash", input: { command: "npm test" }, inputChars: 24 })).toBe(
      "Preparing bash npm test… (24 chars)",
    );
  });
});

describe("refusedByAgent", () => {
  const refusal =
    'Unknown tool "bash": not one of this agent\'s tools, so it did not run. Tool names are case-sensitive; available: read_file, edit_file.';
  it("recognises the loop's refusal of a tool the agent is not given", () => {
    expect(refusedByAgent({ state: "error", output: refusal })).toBe(true);
  });
  it("leaves other failures, and a tool's own output quoting the words, alone", () => {
    expect(refusedByAgent({ state: "error", output: "Command failed: exit 1" })).toBe(false);
    expect(refusedByAgent({ state: "done", output: refusal })).toBe(false);
    expect(refusedByAgent({ state: "error", output: `cat log.txt\n${refusal}` })).toBe(false);
    expect(refusedByAgent({ state: "error", output: undefined })).toBe(false);
  });
});
