/**
 * A request target turned into the manifest paths it may name. Only lookups in the manifest ever follow,
 * so nothing here can reach the disk; still, anything ambiguous (dot segments, empty segments, encoded
 * slashes, backslashes, control characters, bad percent-encoding, absurd length) is refused outright so
 * that one file has one URL and a hostile path never gets as far as a lookup.
 */
const MAX_TARGET = 2000;

export interface RequestPath {
  /** Decoded, no leading slash: `""` for the root, `about/` for `/about/`. */
  path: string;
  /** Manifest paths to try, in order. */
  candidates: string[];
}

const hasControl = (s: string) => [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** Undefined when the target is malformed or hostile (answer 400). */
export function parseRequestPath(target: string): RequestPath | undefined {
  if (target.length > MAX_TARGET || !target.startsWith("/")) return undefined;
  const raw = target.split(/[?#]/, 1)[0] as string;
  const segments = raw.slice(1).split("/");
  const decoded: string[] = [];
  for (const [index, segment] of segments.entries()) {
    let name: string;
    try {
      name = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    const isLast = index === segments.length - 1;
    if ((name === "" && !isLast) || name === "." || name === "..") return undefined;
    if (/[/\\]/.test(name) || hasControl(name)) return undefined;
    decoded.push(name);
  }
  const path = decoded.join("/");
  if (path === "" || path.endsWith("/")) return { path, candidates: [`${path}index.html`] };
  return { path, candidates: [path, `${path}.html`, `${path}/index.html`] };
}
