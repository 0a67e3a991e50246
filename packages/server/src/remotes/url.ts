import { KilnError } from "../errors/errors.ts";

const invalid = (message: string) => new KilnError("git_url_invalid", message);

/**
 * A git URL Kiln may transfer with: https only (file://, ssh://, git://, ext:: and scp-like `host:path` would
 * reach what the sandbox holds, run programs, or skip TLS), no credentials in it (a token travels apart,
 * never stored), no fragment, nothing git would read as an option.
 */
export function checkGitUrl(text: string): URL {
  const trimmed = text.trim();
  if (/[\s\\]/.test(trimmed) || hasControl(trimmed))
    throw invalid("the URL has spaces, control characters or backslashes");
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/.test(trimmed))
    throw invalid("only https URLs are supported (not a git remote helper)");
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw invalid("not a URL: use the repository's https URL, e.g. https://git.example.com/team/app.git");
  }
  if (url.protocol !== "https:")
    throw invalid(`only https URLs are supported, not ${url.protocol.replace(/:$/, "")}`);
  if (url.username || url.password)
    throw invalid("put no credentials in the URL: pass a token with the request instead");
  if (url.hash) throw invalid("a git URL has no #fragment");
  if (!url.hostname) throw invalid("the URL names no host");
  return url;
}

/** A project name from a repository URL: its last path segment without `.git`. */
export function repositoryName(url: URL): string {
  const last = url.pathname.split("/").filter(Boolean).pop() ?? url.hostname;
  let decoded = last;
  try {
    decoded = decodeURIComponent(last);
  } catch {
    // A malformed escape: the segment as written.
  }
  const name = decoded
    .split("")
    .filter((c) => !hasControl(c))
    .join("")
    .replace(/\.git$/i, "")
    .slice(0, 100)
    .trim();
  return name || url.hostname;
}

function hasControl(s: string): boolean {
  return [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}
