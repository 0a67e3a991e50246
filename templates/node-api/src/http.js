/** Small helpers so route handlers stay short. */

export function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

export function sendError(res, status, code, message) {
  sendJson(res, status, { error: { code, message } });
}

const MAX_BODY_BYTES = 1024 * 1024;

/** Reads a JSON request body; answers 400/413 itself and returns undefined when the body is unusable. */
export async function readJson(req, res) {
  if (!String(req.headers["content-type"] ?? "").startsWith("application/json")) {
    sendError(res, 415, "unsupported_media_type", "send JSON with content-type: application/json");
    return undefined;
  }
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      sendError(res, 413, "payload_too_large", "body too large");
      return undefined;
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    sendError(res, 400, "invalid_json", "body is not valid JSON");
    return undefined;
  }
}
