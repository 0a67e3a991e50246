import http from "node:http";
import { lingerOnClose } from "./linger.ts";

/**
 * A server for linger.test.ts, in its own process (in one process the client and server take turns and
 * the race never shows): it reads 1 MiB of an upload, then refuses it with 413 and `Connection: close`
 * while the client is still sending; with `linger`, as the git routes do.
 */
const linger = process.argv[2] === "linger";
const server = http.createServer(async (req, res) => {
  let read = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    read += chunk.length;
    if (read > 1024 * 1024) break;
  }
  if (linger) lingerOnClose(req.socket);
  res.writeHead(413, { connection: "close", "content-type": "text/plain" });
  res.end("too large");
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.send?.(typeof address === "object" && address ? address.port : 0);
});
