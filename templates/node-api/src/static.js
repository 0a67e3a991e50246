import { readFile, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sendError } from "./http.js";

const publicDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../public");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
};

/** Serves files from public/ (index.html for /), never anything outside it. */
export async function serveStatic(req, res, url) {
  if (req.method !== "GET" && req.method !== "HEAD")
    return sendError(res, 405, "method_not_allowed", "GET only");
  let rel;
  try {
    rel = decodeURIComponent(url.pathname);
  } catch {
    return sendError(res, 400, "bad_request", "bad path");
  }
  if (rel.endsWith("/")) rel += "index.html";
  const file = path.join(publicDir, rel);
  try {
    const real = await realpath(file);
    if (!real.startsWith(publicDir + path.sep) || !(await stat(real)).isFile()) throw new Error("outside");
    const body = await readFile(real);
    res.writeHead(200, {
      "content-type": TYPES[path.extname(real)] ?? "application/octet-stream",
      "cache-control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch {
    sendError(res, 404, "not_found", "not found");
  }
}
