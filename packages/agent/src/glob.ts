/**
 * Glob patterns as the model writes them: `*` within one path segment, `**` across segments, `?`, `{a,b}`
 * and `[abc]`. A pattern without a slash matches a file name at any depth (`*.ts` finds every TypeScript
 * file), like .gitignore and ripgrep's --glob, because that is what models expect.
 */
export function globToRegExp(glob: string, options: { ignoreCase?: boolean } = {}): RegExp {
  let out = "";
  let inBraces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (glob[i + 1] === "/") {
          i++;
          out += "(?:[^/]*/)*"; // `**/` also matches zero directories
        } else out += ".*";
      } else out += "[^/]*";
    } else if (c === "?") out += "[^/]";
    else if (c === "{") {
      inBraces++;
      out += "(?:";
    } else if (c === "}" && inBraces > 0) {
      inBraces--;
      out += ")";
    } else if (c === "," && inBraces > 0) out += "|";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end === -1) out += "\\[";
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, "\\\\");
        if (body.startsWith("!")) body = `^${body.slice(1)}`;
        out += `[${body}]`;
        i = end;
      }
    } else out += c.replace(/[.+^$()|\\\]{}]/g, "\\$&");
  }
  while (inBraces-- > 0) out += ")";
  const anchored = glob.includes("/") ? `^${out.replace(/^\\?\//, "")}$` : `(?:^|/)${out}$`;
  return new RegExp(anchored, options.ignoreCase ? "i" : "");
}
