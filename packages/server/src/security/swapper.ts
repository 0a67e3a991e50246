/**
 * The source of a Node script (CommonJS, no single quotes: it runs as `node -e '…'` too) for a sandbox: for
 * `ms` milliseconds it swaps directory `d` (in its working directory) for a symlink to `target` and back, as
 * fast as it goes, each state held a moment so a check and the use after it can land on either side of a
 * swap. What a caller made as `d/index.js` is removed after 20 ms (not at once: Kiln must get as far as
 * handing it over), so create-only calls can create again; if the caller made a new `d` while it was away,
 * it starts over from that one. Prints `swaps <n>` at the end.
 */
export function directorySwapper(target: string, ms: number): string {
  return `
const fs = require("fs");
const end = Date.now() + ${ms};
const hold = (ms) => { const until = performance.now() + ms; while (performance.now() < until); };
fs.mkdirSync("d", { recursive: true });
fs.rmSync("d.link", { force: true });
fs.symlinkSync(${JSON.stringify(target)}, "d.link");
let swaps = 0;
while (Date.now() < end) {
  try {
    fs.renameSync("d", "d.real");
    const made = fs.lstatSync("d.real/index.js", { throwIfNoEntry: false });
    if (made && Date.now() - made.ctimeMs > 20) fs.rmSync("d.real/index.js", { recursive: true, force: true });
    fs.renameSync("d.link", "d");
    hold(0.2);
    fs.renameSync("d", "d.link");
    fs.renameSync("d.real", "d");
    hold(0.2);
    swaps++;
  } catch {
    try { if (fs.lstatSync("d").isSymbolicLink()) fs.renameSync("d", "d.link"); } catch {}
    try { fs.renameSync("d.real", "d"); } catch { try { fs.rmSync("d.real", { recursive: true, force: true }); } catch {} }
    try { fs.symlinkSync(${JSON.stringify(target)}, "d.link"); } catch {}
  }
}
console.log("swaps " + swaps);
`;
}
