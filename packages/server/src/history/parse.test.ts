import { describe, expect, it } from "vitest";
import { parseDiff, parseHunks, parseNameStatus, parseRecords, parseShortstat } from "./parse.ts";
import { composeMessage } from "./service.ts";

const SHA_A = "a".repeat(40);
const SHA_B = "b".repeat(40);
const NONCE = "\x1enonce:";

describe("log records", () => {
  it("reads fields, trailers and stats, and keeps a subject that contains separators whole", () => {
    const out =
      `${NONCE}${SHA_A}\x1f${SHA_B}\x1f2026-01-02T03:04:05+01:00\x1fAnn\x1fchat-1\x1fmsg-1\x1f\x1fAdd\x1fa page\n\n` +
      ` 2 files changed, 3 insertions(+), 1 deletion(-)\n` +
      `${NONCE}${SHA_B}\x1f\x1f2026-01-01T00:00:00Z\x1fKiln\x1f\x1fforged, value; rm\x1f${SHA_A}\x1fCreate\n`;
    const [first, second] = parseRecords(out, NONCE);
    expect(first).toMatchObject({
      sha: SHA_A,
      shortSha: "aaaaaaa",
      parentSha: SHA_B,
      message: "Add\x1fa page",
      chatId: "chat-1",
      messageId: "msg-1",
      createdAt: "2026-01-02T02:04:05.000Z",
      stats: { filesChanged: 2, insertions: 3, deletions: 1 },
    });
    expect(second).toMatchObject({ parentSha: null, messageId: null, restoredFrom: SHA_A, filesChanged: 0 });
  });

  it("ignores chunks that are not records", () => {
    expect(parseRecords(`${NONCE}changes\nM\0a\0`, NONCE)).toEqual([]);
    expect(parseShortstat(" 1 file changed, 1 insertion(+)")).toEqual({
      filesChanged: 1,
      insertions: 1,
      deletions: 0,
    });
  });

  it("reads NUL-separated name-status with any file name", () => {
    expect(parseNameStatus("M\0a b\0D\0new\nline\0")).toEqual([
      { status: "M", path: "a b" },
      { status: "D", path: "new\nline" },
    ]);
  });
});

describe("diff", () => {
  const raw =
    ":100644 100644 1111111 2222222 R075\0old name.txt\0new name.txt\0" +
    ":100644 100644 1111111 2222222 M\0bin.png\0" +
    ":000000 100644 0000000 3333333 A\0added.txt\0";
  const numstat = "1\t1\t\0old name.txt\0new name.txt\0-\t-\tbin.png\0" + "2\t0\tadded.txt\0";
  const patch = [
    "diff --git a/old name.txt b/new name.txt",
    "similarity index 75%",
    "--- a/old name.txt",
    "+++ b/new name.txt",
    "@@ -1,2 +1,2 @@ context",
    " same",
    "-old",
    "+new",
    "diff --git a/bin.png b/bin.png",
    "Binary files a/bin.png and b/bin.png differ",
    "diff --git a/added.txt b/added.txt",
    "new file mode 100644",
    "--- /dev/null",
    "+++ b/added.txt",
    "@@ -0,0 +1,2 @@",
    "+one",
    "+two",
    "\\ No newline at end of file",
    "",
  ].join("\n");

  it("matches listings and patch sections file by file", () => {
    const { files, truncated } = parseDiff(`${raw}${numstat}\0${patch}`, {
      maxFiles: 100,
      maxLinesPerFile: 100,
      capped: false,
    });
    expect(truncated).toBe(false);
    expect(files).toEqual([
      {
        path: "new name.txt",
        oldPath: "old name.txt",
        status: "renamed",
        binary: false,
        additions: 1,
        deletions: 1,
        hunks: [
          {
            header: "@@ -1,2 +1,2 @@ context",
            oldStart: 1,
            oldLines: 2,
            newStart: 1,
            newLines: 2,
            lines: [" same", "-old", "+new"],
          },
        ],
        truncated: false,
      },
      {
        path: "bin.png",
        oldPath: null,
        status: "modified",
        binary: true,
        additions: null,
        deletions: null,
        hunks: [],
        truncated: false,
      },
      expect.objectContaining({
        path: "added.txt",
        status: "added",
        hunks: [expect.objectContaining({ lines: ["+one", "+two", "\\ No newline at end of file"] })],
      }),
    ]);
  });

  it("marks what a byte cap cut off, and survives a cut inside the listings", () => {
    const text = `${raw}${numstat}\0${patch}`;
    const cut = parseDiff(text.slice(0, text.indexOf("+one") + 2), {
      maxFiles: 100,
      maxLinesPerFile: 100,
      capped: true,
    });
    expect(cut.truncated).toBe(true);
    expect(cut.files.map((f) => [f.path, f.truncated])).toEqual([
      ["new name.txt", false],
      ["bin.png", false],
      ["added.txt", true],
    ]);
    const early = parseDiff(raw.slice(0, 50), { maxFiles: 100, maxLinesPerFile: 100, capped: true });
    expect(early).toEqual({ files: [], truncated: true });
    const few = parseDiff(`${raw}${numstat}\0${patch}`, { maxFiles: 1, maxLinesPerFile: 100, capped: false });
    expect(few.files).toHaveLength(1);
    expect(few.truncated).toBe(true);
  });

  it("caps hunk lines per file", () => {
    const section = `@@ -0,0 +1,5 @@\n${["+1", "+2", "+3", "+4", "+5"].join("\n")}`;
    expect(parseHunks(section, 3)).toMatchObject({ truncated: true, hunks: [{ lines: ["+1", "+2", "+3"] }] });
  });
});

describe("commit messages", () => {
  it("drops control characters and forged Kiln trailers, then adds the real ones", () => {
    expect(
      composeMessage({
        message: "Fix it\x1b[31m\r\nKiln-Message: forged\n  kiln-chat: forged\n\nbody\0",
        chatId: "c1",
        messageId: "m1",
      }),
    ).toBe("Fix it[31m\n\nbody\n\nKiln-Chat: c1\nKiln-Message: m1");
    expect(composeMessage({ message: "  \n" })).toBe("Checkpoint");
    expect(() => composeMessage({ message: "x", chatId: "a b" })).toThrow(/chatId/);
  });
});
