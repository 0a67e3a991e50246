/**
 * The request headers that choose a representation: Accept-Encoding (which compression), If-None-Match
 * (the client already has it) and If-Range (whether a range still applies). Each answers from the
 * header's text alone, so a malformed header degrades to "no preference" instead of an error.
 */
export type Encoding = "br" | "gzip";

/**
 * Brotli when the client takes it, else gzip, else none. q-values only decide what is acceptable (q=0
 * refuses a coding, `*` covers unnamed ones): the server's preference picks among them, as RFC 9110 lets it.
 */
export function pickEncoding(header: string | undefined): Encoding | undefined {
  if (!header) return undefined;
  const weights = new Map<string, number>();
  for (const item of header.split(",")) {
    const [name = "", ...params] = item.split(";").map((s) => s.trim().toLowerCase());
    if (name === "") continue;
    // A malformed weight refuses rather than accepts: a client that said q= meant to qualify.
    const q = params.map((p) => /^q\s*=\s*(.*)$/.exec(p)?.[1]).find((v) => v !== undefined);
    weights.set(name, q === undefined ? 1 : Number(q) || 0);
  }
  const accepts = (coding: string) => (weights.get(coding) ?? weights.get("*") ?? 0) > 0;
  if (accepts("br")) return "br";
  return accepts("gzip") ? "gzip" : undefined;
}

/** If-None-Match compares weakly (RFC 9110 §13.1.2): `W/"x"` matches `"x"`; `*` matches whatever exists. */
export function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/**
 * If-Range keeps a range only for an identical strong ETag. A date never matches (no Last-Modified is
 * sent, so a client has none of ours), nor does a weak tag: the client then gets the whole file.
 */
export function ifRangeHolds(header: string | undefined, etag: string): boolean {
  return header === undefined || header.trim() === etag;
}
