import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { onlyPushing } from "./push-refs.ts";

const A = "a".repeat(40);
const B = "b".repeat(40);
const REF = "refs/heads/kiln/task-1";

function pkt(line: string): string {
  return (line.length + 4).toString(16).padStart(4, "0") + line;
}

/** A receive-pack body in chunks of `size` bytes: commands, flush, then a "pack". */
function body(lines: string[], size = 7): Readable {
  const text = `${lines.map(pkt).join("")}0000PACK-bytes-follow`;
  const chunks: Buffer[] = [];
  for (let i = 0; i < text.length; i += size) chunks.push(Buffer.from(text.slice(i, i + size)));
  return Readable.from(chunks);
}

async function code(lines: string[]): Promise<string> {
  return onlyPushing(body(lines), REF).then(
    () => "accepted",
    (e: { code: string }) => e.code,
  );
}

describe("onlyPushing", () => {
  it("passes a push of the one ref through byte for byte, however it is chunked", async () => {
    for (const size of [1, 3, 7, 1000]) {
      const lines = [`shallow ${A}`, `${A} ${B} ${REF}\0report-status side-band-64k\n`, `${B} ${A} ${REF}\n`];
      const original = await buffer(body(lines, size));
      expect(await buffer(await onlyPushing(body(lines, size), REF))).toEqual(original);
    }
  });

  it("refuses another ref, a ref under the allowed one, a prefix of it, and signed pushes", async () => {
    expect(await code([`${A} ${B} refs/heads/main\0report-status\n`])).toBe("forbidden");
    expect(await code([`${A} ${B} ${REF}\0report-status\n`, `${A} ${B} refs/tags/v1\n`])).toBe("forbidden");
    expect(await code([`${A} ${B} ${REF}/sub\n`])).toBe("forbidden");
    expect(await code([`${A} ${B} refs/heads/kiln/task-10\n`])).toBe("forbidden");
    expect(await code([`${A} ${B} refs/heads/kiln/task\n`])).toBe("forbidden");
    expect(await code(["push-cert\0report-status\n"])).toBe("forbidden");
    expect(await code(["garbage"])).toBe("forbidden");
  });

  it("refuses what is not pkt-lines, or commands without end", async () => {
    await expect(onlyPushing(Readable.from([Buffer.from("zzzz")]), REF)).rejects.toMatchObject({
      code: "bad_request",
    });
    const endless = Readable.from(
      (function* () {
        for (let i = 0; i < 10_000; i++) yield Buffer.from(pkt(`shallow ${A}`));
      })(),
    );
    await expect(onlyPushing(endless, REF)).rejects.toMatchObject({ code: "bad_request" });
  });
});
