import { type FileHandle, open } from "node:fs/promises";
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { compressedBlob, compressor, MAX_CACHED_BYTES, MIN_COMPRESS_BYTES } from "./compression.ts";
import type { ArtifactFile, ArtifactManifest } from "./manifest.ts";
import { contentTypeOf, extensionOf, isCompressible, isFingerprinted } from "./mime.ts";
import { type Encoding, ifRangeHolds, noneMatchHits, pickEncoding } from "./negotiation.ts";
import { planRange, type RangePlan } from "./ranges.ts";
import { parseRequestPath } from "./request-path.ts";

/**
 * The public face of one published artifact: answers GET and HEAD for the files its manifest lists, and
 * nothing else. The request path is only ever a key into `manifest.files` (own keys only), never joined
 * onto a directory, so no spelling of a path can name a file outside the artifact; the disk is reached
 * through `blobPath(digest)` of a listed file only. Blobs are immutable and content-addressed, which makes
 * the digest a perfect strong ETag and lets fingerprinted names be cached for a year.
 *
 * This speaks plain `node:http` rather than Fastify: a published site is tenant content on its own host,
 * so its answers are the site's (bare text errors, no studio JSON envelope, no studio headers, no cookies).
 * Every outcome is an answer: bad input is 4xx, a blob missing from the store is 503, and a client that
 * goes away mid-file has its file closed (stream pipeline).
 */

export interface StaticSite {
  manifest: ArtifactManifest;
  /** Where the blob with this digest lives on disk (a Kiln-owned, content-addressed store, never tenant-writable). */
  blobPath(digest: string): string;
}

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "strict-origin-when-cross-origin",
} as const;
const IMMUTABLE = "public, max-age=31536000, immutable";
const SHA256_HEX = /^[0-9a-f]{64}$/;
const UNAVAILABLE = "this deployment's files are not available";

/** Answers one request for a published static site. Never throws for bad input: answers 4xx. */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  site: StaticSite,
): Promise<void> {
  try {
    await answer(req, res, site);
  } catch {
    // Nothing expected lands here (a blob that cannot be read is a 503 below); after the headers have
    // gone, ending the connection is the only honest signal left.
    if (res.headersSent) res.destroy();
    else sendText(res, 500, "internal error");
  }
}

async function answer(req: IncomingMessage, res: ServerResponse, site: StaticSite): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return sendText(res, 405, "method not allowed", { allow: "GET, HEAD" });
  }
  const request = parseRequestPath(req.url ?? "");
  if (!request) return sendText(res, 400, "bad request path");
  const { files, spa } = site.manifest;
  const listed = (path: string) => Object.hasOwn(files, path);
  const found = request.candidates.find(listed);
  if (found !== undefined) return sendFile(req, res, site, found, 200);
  const navigation = extensionOf(request.path) === "" || (req.headers.accept ?? "").includes("text/html");
  if (spa && navigation && listed("index.html")) return sendFile(req, res, site, "index.html", 200);
  if (listed("404.html")) return sendFile(req, res, site, "404.html", 404);
  return sendText(res, 404, "not found");
}

async function sendFile(
  req: IncomingMessage,
  res: ServerResponse,
  site: StaticSite,
  path: string,
  status: 200 | 404,
): Promise<void> {
  const file = site.manifest.files[path] as ArtifactFile;
  // The digest goes into a header and to blobPath: anything but a sha256 means a broken manifest.
  if (!SHA256_HEX.test(file.digest)) return sendText(res, 503, UNAVAILABLE);
  const type = contentTypeOf(path);
  const compressible = isCompressible(type) && file.size >= MIN_COMPRESS_BYTES;
  const headers: OutgoingHttpHeaders = {
    ...SECURITY_HEADERS,
    "content-type": type,
    "cache-control": isFingerprinted(path) && !type.startsWith("text/html") ? IMMUTABLE : "no-cache",
    "accept-ranges": "bytes",
  };
  if (compressible) headers.vary = "accept-encoding";
  // An error page is just a body: conditionals and ranges are for the representation of the URL itself.
  const conditional = status === 200;
  const identityTag = `"${file.digest}"`;
  let range: RangePlan = { kind: "full" };
  if (conditional && req.method === "GET" && req.headers.range !== undefined) {
    range = planRange(req.headers.range, file.size);
    if (!ifRangeHolds(single(req.headers["if-range"]), identityTag)) range = { kind: "full" };
  }
  // Ranges count bytes of the identity encoding, so a range request is never compressed.
  const encoding =
    range.kind === "full" && compressible ? pickEncoding(req.headers["accept-encoding"]) : undefined;
  const etag = encoding ? `"${file.digest}-${encoding}"` : identityTag;
  headers.etag = etag;
  if (conditional && noneMatchHits(req.headers["if-none-match"], etag)) {
    delete headers["content-type"];
    res.writeHead(304, headers).end();
    return;
  }
  if (range.kind === "unsatisfiable") {
    return sendText(res, 416, "range not satisfiable", { "content-range": `bytes */${file.size}` });
  }
  if (encoding) return sendCompressed(req, res, site, file, status, headers, encoding);
  const handle = await openBlob(site, file);
  if (!handle) return sendText(res, 503, UNAVAILABLE);
  const start = range.kind === "partial" ? range.start : 0;
  const end = range.kind === "partial" ? range.end : file.size - 1;
  if (range.kind === "partial") headers["content-range"] = `bytes ${start}-${end}/${file.size}`;
  headers["content-length"] = String(end - start + 1);
  res.writeHead(range.kind === "partial" ? 206 : status, headers);
  if (req.method === "HEAD" || file.size === 0) {
    await handle.close();
    res.end();
    return;
  }
  await stream(handle.createReadStream({ start, end }), res);
}

async function sendCompressed(
  req: IncomingMessage,
  res: ServerResponse,
  site: StaticSite,
  file: ArtifactFile,
  status: number,
  headers: OutgoingHttpHeaders,
  encoding: Encoding,
): Promise<void> {
  headers["content-encoding"] = encoding;
  if (file.size > MAX_CACHED_BYTES) {
    const handle = await openBlob(site, file);
    if (!handle) return sendText(res, 503, UNAVAILABLE);
    // Compressed on the way out: the length is not known up front, so the body is chunked.
    res.writeHead(status, headers);
    if (req.method === "HEAD") {
      await handle.close();
      res.end();
      return;
    }
    return stream(handle.createReadStream(), res, compressor(encoding, file.size));
  }
  const body = await compressedBlob(file.digest, encoding, async () => {
    const handle = await openBlob(site, file);
    try {
      return await handle?.readFile();
    } finally {
      await handle?.close();
    }
  });
  if (!body) return sendText(res, 503, UNAVAILABLE);
  res.writeHead(status, { ...headers, "content-length": String(body.length) });
  res.end(body);
}

/**
 * The blob, open, when it is a regular file of the size the manifest promises; undefined when the store
 * has lost or mangled it (an answer of 503, not a crash or a truncated file).
 */
async function openBlob(site: StaticSite, file: ArtifactFile): Promise<FileHandle | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(site.blobPath(file.digest), "r");
    const stat = await handle.stat();
    if (stat.isFile() && stat.size === file.size) return handle;
  } catch {
    // Missing, unreadable or a bad path from blobPath: all the same to the visitor.
  }
  await handle?.close().catch(() => {});
  return undefined;
}

/**
 * Pipes with back-pressure. When the client goes away, pipeline destroys the file stream, which closes its
 * handle; the premature-close error that reports it is expected and dropped.
 */
async function stream(source: Readable, res: ServerResponse, via?: NodeJS.ReadWriteStream): Promise<void> {
  try {
    if (via) await pipeline(source, via, res);
    else await pipeline(source, res);
  } catch {
    res.destroy();
  }
}

/** Node types unlisted headers as possibly repeated; it joins repeats into one string, except set-cookie. */
const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(", ") : value);

function sendText(res: ServerResponse, status: number, text: string, extra: OutgoingHttpHeaders = {}): void {
  const body = `${text}\n`;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": "text/plain; charset=utf-8",
    "cache-control": "no-cache",
    "content-length": String(Buffer.byteLength(body)),
    ...extra,
  });
  res.end(body);
}
