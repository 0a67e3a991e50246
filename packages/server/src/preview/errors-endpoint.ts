import type { IncomingMessage, ServerResponse } from "node:http";
import {
  ERROR_STATUS,
  type ErrorCode,
  PREVIEW_ERROR_LIMITS,
  PreviewErrorReport,
  PreviewPageLoaded,
} from "@kiln/protocol";
import type { PreviewErrors } from "./errors.ts";

/**
 * `POST /__kiln/errors` on a preview origin: an error report from the script injected into the page, or
 * its word that the page loaded cleanly (which clears what that page reported before).
 * Whatever it says ends up in front of the agent, so only the preview's own pages may send one: same
 * origin (a page of another preview is same-site, and would carry the member's Lax cookie), JSON (so a
 * cross-origin form cannot post without a preflight nobody answers), small, well-formed and rate-limited.
 */
export async function receiveErrorReport(
  req: IncomingMessage,
  res: ServerResponse,
  project: { orgId: string; projectId: string },
  errors: PreviewErrors,
  /** The caller holds a member's preview session (public previews let anyone else see the page too). */
  member: boolean,
): Promise<void> {
  if (req.method !== "POST") return refuse(req, res, "method_not_allowed", "POST only", { allow: "POST" });
  if (!member) return refuse(req, res, "forbidden", "only members' previews report errors");
  if (!sameOrigin(req))
    return refuse(req, res, "origin_forbidden", "reports come from the preview's own pages");
  if (
    !String(req.headers["content-type"] ?? "")
      .toLowerCase()
      .startsWith("application/json")
  ) {
    return refuse(req, res, "unsupported_media_type", "send application/json");
  }
  const limit = PREVIEW_ERROR_LIMITS.bodyBytes;
  if (Number(req.headers["content-length"] ?? 0) > limit) {
    return refuse(req, res, "payload_too_large", `reports are at most ${limit} bytes`);
  }
  const body = await readBody(req, limit);
  if (body === undefined) return refuse(req, res, "payload_too_large", `reports are at most ${limit} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return refuse(req, res, "invalid_json", "the body is not JSON");
  }
  const parsed = PreviewErrorReport.safeParse(json);
  const loaded = parsed.success ? undefined : PreviewPageLoaded.safeParse(json);
  if (!parsed.success && !loaded?.success) {
    return refuse(req, res, "validation_failed", "not an error report");
  }
  if (!errors.allow(project.orgId, project.projectId)) {
    return refuse(req, res, "rate_limited", "too many error reports; try later", {
      "retry-after": "60",
    });
  }
  if (parsed.success) errors.report(project.orgId, project.projectId, parsed.data);
  else errors.recovered(project.orgId, project.projectId, loaded!.data!.page);
  res.writeHead(204, { "cache-control": "no-store" });
  res.end();
}

function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined && site !== "same-origin") return false;
  const origin = req.headers.origin;
  if (!origin || !req.headers.host) return false;
  try {
    return new URL(origin).host === req.headers.host.toLowerCase();
  } catch {
    return false;
  }
}

/** The body, or undefined once it passes `limit` bytes (whatever Content-Length claimed). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off("data", onData);
      resolve(undefined);
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  code: ErrorCode,
  message: string,
  headers: Record<string, string> = {},
): void {
  // An unread body would otherwise be left on a connection that may be reused.
  const close = !req.complete;
  res.writeHead(ERROR_STATUS[code], {
    "content-type": "application/json; charset=utf-8",
    "cache-control": "no-store",
    ...(close ? { connection: "close" } : {}),
    ...headers,
  });
  res.end(JSON.stringify({ error: { code, message } }));
  if (close) {
    // Read and drop the rest (closing with unread input would reset the connection before the answer
    // arrives), but not forever.
    req.resume();
    setTimeout(() => req.destroy(), 5_000).unref();
  }
}
