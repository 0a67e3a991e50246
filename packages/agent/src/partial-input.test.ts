import { describe, expect, it } from "vitest";
import { finishedFields } from "./partial-input.ts";

describe("finishedFields", () => {
  it("gives a path once its closing quote has streamed, not before", () => {
    expect(finishedFields('{"pa')).toEqual({});
    expect(finishedFields('{"path": "src/Ap')).toEqual({});
    expect(finishedFields('{"path": "src/App.tsx"')).toEqual({ path: "src/App.tsx" });
    expect(finishedFields('{"path": "src/App.tsx", "content": "export func')).toEqual({
      path: "src/App.tsx",
    });
  });

  it("reads fields after the file text and skips other values", () => {
    const text =
      '{"content": "say \\"path\\": \\"no\\"", "n": 3, "o": {"path": "nested"}, "path": "a\\"b.ts"';
    expect(finishedFields(text)).toEqual({ path: 'a"b.ts' });
    expect(finishedFields('{"command": "npm test", "timeout": 12}')).toEqual({ command: "npm test" });
  });

  it("gives nothing for text that is not an object", () => {
    expect(finishedFields("")).toEqual({});
    expect(finishedFields('["path", "x"]')).toEqual({});
    expect(finishedFields("not json")).toEqual({});
  });
});
