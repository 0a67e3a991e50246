import { describe, expect, it } from "vitest";
import { FieldReader, finishedFields } from "./partial-input.ts";

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

describe("FieldReader", () => {
  it("read piece by piece, gives at every step what finishedFields gives for the text so far", () => {
    const texts = [
      '{"content": "say \\"path\\": \\"no\\"", "n": 3, "o": {"path": "nested", "a": [1, "x\\"]"]}, "path": "a\\"b.ts"}',
      '{"path": "src/App.tsx", "edits": [{"old": "a\\\\b", "new": "\\u00e9t\\u00e9"}], "command": "npm test", "timeout": 12, "to": "b"}',
      ' {"command" : "ls" ,"bad": tru',
      '["path", "x"]',
    ];
    for (const text of texts) {
      for (const step of [1, 2, 3, 7]) {
        const reader = new FieldReader();
        for (let end = 0; end <= text.length; end += step) {
          const prefix = text.slice(0, end);
          expect(reader.read(prefix), `${step}: ${prefix}`).toEqual(finishedFields(prefix));
        }
        expect(reader.read(text)).toEqual(finishedFields(text));
      }
    }
  });
});
