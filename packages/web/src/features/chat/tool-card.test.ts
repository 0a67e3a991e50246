import { describe, expect, it } from "vitest";
import { writingLine } from "./tool-card.tsx";

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
