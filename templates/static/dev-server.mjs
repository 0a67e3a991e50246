// Kiln's dev server for static sites: serves this folder and reloads open pages when a file changes.
// Zero dependencies on purpose (plain Node), so the project needs no `npm install`. Honours PORT and HOST.
import { watch } from "node:fs";
import { readFile, realpath, stat } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.dirname(fileURLToPath(import.meta.url));
const port = Number(process.env.PORT) || 3000;
const host = process.env.HOST || "0.0.0.0";
const LIVE_PATH = "/__kiln/live";
// Files that make the dev setup, not the site.
const HIDDEN = new Set(["dev-server.mjs", "kiln.json", "KILN.md", "package.json", "package-lock.json"]);

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".avif": "image/avif",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".mp3": "audio/mpeg",
  ".mp4": "video/mp4",
  ".webm": "video/webm",
  ".wasm": "application/wasm",
};

// Injected into every HTML page. CSS changes swap stylesheets in place; anything else reloads the page.
const CLIENT = `<script type="module">
const source = new EventSource(${JSON.stringify(LIVE_PATH)});
source.addEventListener("change", (event) => {
  const file = JSON.parse(event.data).path;
  if (file.endsWith(".css")) {
    for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
      const url = new URL(link.href);
      url.searchParams.set("t", Date.now());
      link.href = url.href;
    }
  } else {
    location.reload();
  }
});
</script>`;

/** @type {Set<http.ServerResponse>} */
const clients = new Set();

async function resolveFile(urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  const segments = rel.split("/").filter(Boolean);
  if (segments.some((s) => s.startsWith(".") || s.includes("\\") || s.includes("\0"))) return undefined;
  if (segments.length === 1 && HIDDEN.has(segments[0])) return undefined;
  if (segments[0] === "node_modules") return undefined;
  const candidates = [];
  const base = path.join(root, ...segments);
  if (rel.endsWith("/") || segments.length === 0) candidates.push(path.join(base, "index.html"));
  else candidates.push(base, `${base}.html`, path.join(base, "index.html"));
  for (const file of candidates) {
    try {
      // A symlink must not lead outside the project.
      const real = await realpath(file);
      if (real !== root && !real.startsWith(root + path.sep)) continue;
      if ((await stat(real)).isFile()) return real;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}

function injectClient(html) {
  const at = html.lastIndexOf("</body>");
  return at === -1 ? html + CLIENT : html.slice(0, at) + CLIENT + html.slice(at);
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405, { allow: "GET, HEAD" }).end();
    return;
  }
  if (url.pathname === LIVE_PATH) {
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-store",
      connection: "keep-alive",
      // Proxies (nginx) must not buffer the stream.
      "x-accel-buffering": "no",
    });
    res.write("retry: 1000\n\n");
    clients.add(res);
    req.on("close", () => clients.delete(res));
    return;
  }
  const file = await resolveFile(url.pathname);
  if (!file) {
    const notFound = await resolveFile("/404.html");
    const body = notFound ? injectClient(await readFile(notFound, "utf8")) : "<h1>404 Not Found</h1>";
    res.writeHead(404, { "content-type": TYPES[".html"], "cache-control": "no-store" });
    res.end(req.method === "HEAD" ? undefined : body);
    return;
  }
  const type = TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";
  let body = await readFile(file);
  if (type.startsWith("text/html")) body = Buffer.from(injectClient(body.toString("utf8")));
  res.writeHead(200, { "content-type": type, "content-length": body.length, "cache-control": "no-store" });
  res.end(req.method === "HEAD" ? undefined : body);
});

let pending;
watch(root, { recursive: true }, (_event, filename) => {
  if (!filename) return;
  const rel = filename.split(path.sep).join("/");
  if (rel.startsWith(".") || rel.includes("/.") || rel.startsWith("node_modules/")) return;
  // Editors write a file in several steps: announce once the burst settles.
  clearTimeout(pending);
  pending = setTimeout(() => {
    const message = `event: change\ndata: ${JSON.stringify({ path: rel })}\n\n`;
    for (const client of clients) client.write(message);
  }, 50);
});

// Keeps idle SSE connections open through proxies that time out silent streams.
setInterval(() => {
  for (const client of clients) client.write(": ping\n\n");
}, 15_000).unref();

server.listen(port, host, () => {
  console.log(`static dev server on http://${host}:${port} (live reload on)`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    for (const client of clients) client.end();
    server.close();
    process.exit(0);
  });
}
