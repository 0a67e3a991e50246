import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Reverse tabnabbing: a page the studio opens in a new tab (a preview: code anyone in the org wrote) must
 * get no `window.opener`, or it can send the studio's tab to a look-alike log-in page. Every way the studio
 * source opens a tab is checked here: `window.open` with `noopener`, or a blank tab whose opener is cut
 * before it goes anywhere (features/preview/new-tab.ts), and `target="_blank"` only with
 * `rel="noopener noreferrer"`.
 */

const SRC = path.dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

/** The text from `open` (an index at `(`) to its matching `)`. */
function callArguments(text: string, open: number): string {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")" && --depth === 0) return text.slice(open + 1, i);
  }
  return text.slice(open + 1);
}

interface Finding {
  line: number;
  problem: string;
}

function tabOpenings(text: string): { checked: number; findings: Finding[] } {
  const findings: Finding[] = [];
  const lineOf = (index: number) => text.slice(0, index).split("\n").length;
  const covered = new Set<number>();
  let checked = 0;

  for (const call of text.matchAll(/\bwindow\.open\s*\(/g)) {
    checked++;
    const start = call.index + call[0].length - 1;
    const args = callArguments(text, start);
    for (const blank of args.matchAll(/_blank/g)) covered.add(start + 1 + blank.index);
    if (/noopener/.test(args)) continue;
    // The one other safe form: a blank tab held in a variable whose opener is cut on the next statement.
    const assigned = /(\w+)\s*=\s*$/.exec(text.slice(Math.max(0, call.index - 40), call.index))?.[1];
    const after = text.slice(start + args.length + 2, start + args.length + 120);
    const cut =
      assigned && new RegExp(`^\\s*;?\\s*if \\(${assigned}\\) ${assigned}\\.opener = null;`).test(after);
    if (/^\s*["'`]about:blank["'`]/.test(args) && cut) continue;
    findings.push({ line: lineOf(call.index), problem: "window.open without noopener" });
  }

  for (const attr of text.matchAll(/target\s*=\s*(?:"_blank"|'_blank'|\{\s*["'`]_blank["'`]\s*\})/g)) {
    checked++;
    covered.add(attr.index + attr[0].indexOf("_blank"));
    const tagStart = text.lastIndexOf("<", attr.index);
    const tagEnd = text.indexOf(">", attr.index);
    const tag = text.slice(tagStart, tagEnd === -1 ? undefined : tagEnd);
    if (!/rel\s*=\s*["'{][^"'}]*noopener/.test(tag) || !/rel\s*=\s*["'{][^"'}]*noreferrer/.test(tag))
      findings.push({
        line: lineOf(attr.index),
        problem: 'target="_blank" without rel="noopener noreferrer"',
      });
  }

  // Any other way to name a new tab (a form's target, a props object…) is not recognised: say so.
  for (const other of text.matchAll(/_blank/g)) {
    if (covered.has(other.index)) continue;
    // Comments are prose, not code.
    const lineStart = text.lastIndexOf("\n", other.index) + 1;
    if (/^\s*(\/\/|\*|\/\*)/.test(text.slice(lineStart, other.index))) continue;
    findings.push({
      line: lineOf(other.index),
      problem: "a new tab opened in a way this check does not know",
    });
  }
  return { checked, findings };
}

describe("new tabs the studio opens", () => {
  it("the check catches each unsafe form and passes the safe ones", () => {
    const unsafe = [
      'window.open(url, "_blank");',
      'window.open(url, "_blank", "popup");',
      'const tab = window.open("about:blank", "_blank");\ntab.location.href = url;',
      'const tab = window.open(url, "_blank");\nif (tab) tab.opener = null;',
      '<a href={url} target="_blank">x</a>',
      '<a href={url} target="_blank" rel="noreferrer">x</a>',
      "<a href={url} target={'_blank'} rel=\"noopener\">x</a>",
      '<form action={url} target="_blank">',
    ];
    for (const code of unsafe) expect(tabOpenings(code).findings, code).toHaveLength(1);
    const safe = [
      'window.open(url, "_blank", "noopener,noreferrer");',
      'const tab = window.open("about:blank", "_blank");\n  if (tab) tab.opener = null;',
      '<a href={url} target="_blank" rel="noopener noreferrer">x</a>',
      '// a comment about "_blank"',
    ];
    for (const code of safe) expect(tabOpenings(code).findings, code).toEqual([]);
  });

  it("give the opened page no handle on the studio, everywhere in packages/web/src", () => {
    let checked = 0;
    const problems: string[] = [];
    for (const file of sources(SRC)) {
      const result = tabOpenings(readFileSync(file, "utf8"));
      checked += result.checked;
      for (const f of result.findings) problems.push(`${path.relative(SRC, file)}:${f.line}: ${f.problem}`);
    }
    expect(problems).toEqual([]);
    // "Open preview in a new tab" is there to be checked; a check that finds nothing proves nothing.
    expect(checked).toBeGreaterThanOrEqual(2);
  });
});
