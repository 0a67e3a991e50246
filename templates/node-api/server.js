import http from "node:http";
import { handleApi } from "./src/api.js";
import { serveStatic } from "./src/static.js";

const port = Number(process.env.PORT) || 3000;
const host = process.env.HOST || "0.0.0.0";

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname.startsWith("/api/")) return await handleApi(req, res, url);
    return await serveStatic(req, res, url);
  } catch (err) {
    console.error(err);
    if (!res.headersSent) res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ error: { code: "internal_error", message: "internal error" } }));
  }
});

server.listen(port, host, () => {
  console.log(`API listening on http://${host}:${port}`);
});

// `node --watch` restarts by signalling the process: close promptly so the port is free again.
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
