/**
 * HTML to readable plain text for the model: no markup, scripts or styles; block elements become lines.
 * A single forward scan (no backtracking regular expressions): the page is attacker-controlled input.
 */

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };
const SKIPPED = new Set(["script", "style", "noscript", "svg", "template", "iframe", "object"]);
const BLOCKS = new Set([
  "p",
  "div",
  "section",
  "article",
  "header",
  "footer",
  "main",
  "nav",
  "aside",
  "ul",
  "ol",
  "table",
  "tr",
  "pre",
  "blockquote",
  "dd",
  "dt",
  "dl",
  "title",
  "form",
  "figure",
  "figcaption",
  "hr",
]);

export function htmlToText(html: string): string {
  const lower = html.toLowerCase();
  const out: string[] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt === -1) {
      out.push(html.slice(i));
      break;
    }
    out.push(html.slice(i, lt));
    if (html.startsWith("<!--", lt)) {
      const end = html.indexOf("-->", lt + 4);
      i = end === -1 ? html.length : end + 3;
      continue;
    }
    const gt = html.indexOf(">", lt + 1);
    if (gt === -1) {
      out.push(html.slice(lt));
      break;
    }
    const match = /^(\/?)([a-zA-Z][a-zA-Z0-9]*)/.exec(html.slice(lt + 1, Math.min(gt, lt + 40)));
    if (!match) {
      if (html[lt + 1] === "!" || html[lt + 1] === "?")
        i = gt + 1; // doctype, processing instruction
      else {
        out.push("<");
        i = lt + 1;
      }
      continue;
    }
    const closing = match[1] === "/";
    const name = match[2]!.toLowerCase();
    i = gt + 1;
    if (!closing && SKIPPED.has(name)) {
      const end = lower.indexOf(`</${name}`, i);
      const close = end === -1 ? -1 : html.indexOf(">", end);
      i = close === -1 ? html.length : close + 1;
      continue;
    }
    if (name === "br") out.push("\n");
    else if (name === "li" && !closing) out.push("\n- ");
    else if (/^h[1-6]$/.test(name)) out.push(closing ? "\n" : `\n\n${"#".repeat(Number(name[1]))} `);
    else if ((name === "td" || name === "th") && closing) out.push("\t");
    else if (BLOCKS.has(name)) out.push("\n");
  }
  return decodeEntities(out.join(""))
    .split("\n")
    .map((line) => line.replace(/[ \t\u00a0]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z]{2,8});/g, (whole, name: string) => {
    if (name[0] === "#") {
      const code =
        name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}
