/**
 * What a published file is, told from its name alone: its Content-Type, whether compressing it pays, and
 * whether its name carries a content hash (so a browser may keep it for a year without asking again).
 */
const UTF8 = "; charset=utf-8";
const TYPES = new Map<string, string>([
  ["html", `text/html${UTF8}`],
  ["css", `text/css${UTF8}`],
  ["js", `text/javascript${UTF8}`],
  ["mjs", `text/javascript${UTF8}`],
  ["json", `application/json${UTF8}`],
  ["map", `application/json${UTF8}`],
  ["webmanifest", `application/manifest+json${UTF8}`],
  ["svg", `image/svg+xml${UTF8}`],
  ["xml", `application/xml${UTF8}`],
  ["txt", `text/plain${UTF8}`],
  ["wasm", "application/wasm"],
  ["png", "image/png"],
  ["jpg", "image/jpeg"],
  ["jpeg", "image/jpeg"],
  ["gif", "image/gif"],
  ["webp", "image/webp"],
  ["avif", "image/avif"],
  ["ico", "image/x-icon"],
  ["woff", "font/woff"],
  ["woff2", "font/woff2"],
  ["ttf", "font/ttf"],
  ["mp4", "video/mp4"],
  ["webm", "video/webm"],
  ["pdf", "application/pdf"],
]);

const lastSegment = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** The extension of the last segment, lower-cased; "" when there is none (`about`, `.env` counts as one). */
export function extensionOf(path: string): string {
  const name = lastSegment(path);
  const dot = name.lastIndexOf(".");
  return dot === -1 ? "" : name.slice(dot + 1).toLowerCase();
}

export function contentTypeOf(path: string): string {
  return TYPES.get(extensionOf(path)) ?? "application/octet-stream";
}

/** Text-like types shrink several times; images, fonts and video are compressed already. */
export function isCompressible(contentType: string): boolean {
  const type = contentType.split(";", 1)[0] as string;
  return (
    type.startsWith("text/") || /^application\/(json|manifest\+json|xml|wasm)$|^image\/svg\+xml$/.test(type)
  );
}

const HEX = /^[0-9a-f]{8,}$/i;
const BASE64URL = /^[A-Za-z0-9_-]{8,}$/;

/**
 * A bundler's content hash: hex with digits and letters (`3f2a1b9c`), or base64url in mixed case without a
 * word-like run of lower-case letters (`BkQ3x9aZ`). Erring towards "no" only costs a revalidation; a
 * false "yes" would pin a file a republish changes in browsers for a year, so words never pass.
 */
function looksLikeHash(part: string): boolean {
  if (HEX.test(part)) return /\d/.test(part) && /[a-f]/i.test(part);
  return BASE64URL.test(part) && /[A-Z]/.test(part) && /[a-z]/.test(part) && !/[a-z]{5}/.test(part);
}

/**
 * Whether the file name holds a hash before its extension, after a `.` or `-` (`index-BkQ3x9aZ.js`,
 * `main.3f2a1b9c.css`, `app-Bk-3x9aZ.js.map`). Every suffix after a separator is tried, since base64url
 * hashes may contain `-` themselves.
 */
export function isFingerprinted(path: string): boolean {
  const pieces = lastSegment(path).split(".").slice(0, -1);
  return pieces.some((piece, index) => {
    const parts = index > 0 ? [piece] : [];
    for (let dash = piece.indexOf("-"); dash !== -1; dash = piece.indexOf("-", dash + 1)) {
      parts.push(piece.slice(dash + 1));
    }
    return parts.some(looksLikeHash);
  });
}
