import {
  bearer,
  type FakeRequest,
  type FakeServer,
  hex,
  isCleanPath,
  isPlainObject,
  jsonBody,
  SHA1,
  sha1,
  startFake,
  unknownKeys,
} from "./http.ts";

/**
 * A strict fake of the part of Vercel's REST API Kiln uses: POST /v2/files (x-vercel-digest = SHA-1 of the
 * body, Content-Length), POST /v13/deployments (`files: [{file, sha, size}]`; a sha never uploaded answers 400
 * `missing_files` with `missing`), GET /v13/deployments/:id (`readyState` QUEUED → BUILDING → READY, one
 * step per poll). Bearer token and, when configured, `teamId` checked on every call.
 */
const NAME = /^[a-z0-9._-]{1,100}$/;
const DEPLOY_KEYS = ["name", "files", "target", "projectSettings", "project", "meta"];
const STATES = ["QUEUED", "BUILDING", "READY"];

export interface FakeVercel extends FakeServer {
  /** A READY deployment's files by path, as uploaded. */
  filesOf(id: string): Map<string, Buffer> | undefined;
  deployments: Map<string, { name: string; polls: number; files: Map<string, string> }>;
}

export async function startFakeVercel(o: {
  token: string;
  teamId?: string;
  maxBody?: number;
}): Promise<FakeVercel> {
  const blobs = new Map<string, Buffer>();
  const deployments: FakeVercel["deployments"] = new Map();
  const error = (status: number, code: string, message: string, extra: object = {}) => ({
    status,
    json: { error: { code, message, ...extra } },
  });
  const handle = (req: FakeRequest) => {
    if (bearer(req) !== o.token) return error(403, "forbidden", "Not authorized");
    const team = req.url.searchParams.get("teamId");
    if ((o.teamId ?? null) !== team)
      return error(403, "forbidden", "You don't have permission to access this team");
    const path = req.url.pathname;
    if (req.method === "POST" && path === "/v2/files") {
      const digest = String(req.headers["x-vercel-digest"] ?? req.headers["x-now-digest"] ?? "");
      if (!SHA1.test(digest))
        return error(400, "missing_digest", "Missing or invalid `x-vercel-digest` header");
      const length = Number(req.headers["content-length"]);
      if (!Number.isInteger(length) || length !== req.body.length)
        return error(400, "invalid_content_length", "`Content-Length` does not match the body");
      if (sha1(req.body) !== digest)
        return error(400, "invalid_digest", "The file's SHA1 does not match `x-vercel-digest`");
      blobs.set(digest, req.body);
      return { status: 200 };
    }
    if (req.method === "POST" && path === "/v13/deployments") {
      const parsed = jsonBody(req);
      if (!parsed.ok) return error(400, "bad_request", parsed.why);
      const b = parsed.value;
      if (!isPlainObject(b)) return error(400, "bad_request", "Invalid request: should be object");
      const extra = unknownKeys(b, DEPLOY_KEYS);
      if (extra.length)
        return error(
          400,
          "bad_request",
          `Invalid request: should NOT have additional property \`${extra[0]}\``,
        );
      if (typeof b.name !== "string" || !NAME.test(b.name) || b.name.includes("---"))
        return error(400, "bad_request", "Invalid request: `name` is not a valid project name");
      if (!Array.isArray(b.files) || b.files.length === 0)
        return error(400, "bad_request", "Invalid request: `files` is required");
      const files = new Map<string, string>();
      const missing = new Set<string>();
      for (const f of b.files) {
        if (!isPlainObject(f) || unknownKeys(f, ["file", "sha", "size"]).length)
          return error(400, "bad_request", "Invalid request: `files` items are {file, sha, size}");
        if (
          typeof f.file !== "string" ||
          !isCleanPath(f.file) ||
          typeof f.sha !== "string" ||
          !SHA1.test(f.sha)
        )
          return error(
            400,
            "bad_request",
            "Invalid request: a file needs a relative `file` and a SHA1 `sha`",
          );
        if (!Number.isInteger(f.size) || (f.size as number) < 0)
          return error(400, "bad_request", "Invalid request: `size`");
        const blob = blobs.get(f.sha);
        if (!blob) missing.add(f.sha);
        else if (blob.length !== f.size)
          return error(400, "bad_request", `Invalid request: size of ${f.file}`);
        files.set(f.file, f.sha);
      }
      if (missing.size) return error(400, "missing_files", "Missing files", { missing: [...missing] });
      const id = `dpl_${hex(12)}`;
      deployments.set(id, { name: b.name, polls: 0, files });
      return { status: 200, json: view(id) };
    }
    const one = /^\/v13\/deployments\/([^/]+)$/.exec(path);
    if (req.method === "GET" && one) {
      const d = deployments.get(decodeURIComponent(one[1]!));
      if (!d) return error(404, "not_found", "Deployment not found");
      d.polls++;
      return { status: 200, json: view(decodeURIComponent(one[1]!)) };
    }
    return error(404, "not_found", "The requested endpoint was not found");
  };
  const view = (id: string) => {
    const d = deployments.get(id)!;
    return {
      id,
      name: d.name,
      url: `${d.name}-${id.slice(4, 13)}.vercel.app`,
      readyState: STATES[Math.min(d.polls, STATES.length - 1)],
      target: "production",
    };
  };
  const server = await startFake(o.maxBody ?? 10 * 1024 * 1024, handle, () =>
    error(413, "payload_too_large", "The file is too large"),
  );
  return {
    ...server,
    deployments,
    filesOf(id) {
      const d = deployments.get(id);
      if (!d) return undefined;
      return new Map([...d.files].map(([path, sha]) => [path, blobs.get(sha)!]));
    },
  };
}
