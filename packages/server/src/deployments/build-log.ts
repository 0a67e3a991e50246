/**
 * A build's log as it is kept: lines Kiln writes and the build's own output, at most `maxBytes` (the head
 * and the tail of a longer one, with a marker between: the start says what ran, the end why it failed).
 */
export function buildLog(maxBytes: number) {
  const parts: string[] = [];
  return {
    line(text: string): void {
      parts.push(`${text}\n`);
    },
    output(stdout: string, stderr: string): void {
      if (stdout) parts.push(stdout.endsWith("\n") ? stdout : `${stdout}\n`);
      if (stderr) parts.push(stderr.endsWith("\n") ? stderr : `${stderr}\n`);
    },
    text(): string {
      const all = parts.join("");
      if (Buffer.byteLength(all) <= maxBytes) return all;
      const half = Math.floor(maxBytes / 2);
      const bytes = Buffer.from(all);
      const head = bytes
        .subarray(0, half)
        .toString("utf8")
        .replace(/\uFFFD+$/, "");
      const tail = bytes
        .subarray(bytes.length - half)
        .toString("utf8")
        .replace(/^\uFFFD+/, "");
      return `${head}\n… (${bytes.length - 2 * half} bytes left out) …\n${tail}`;
    },
  };
}
