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
 * A strict fake of Netlify's API v1 "file digest" deploys: POST /api/v1/sites (a unique `name`), POST
 * /api/v1/sites/:site_id/deploys (`files: {"/path": sha1}`, answers `required`), PUT
 * /api/v1/deploys/:deploy_id/files/:path (application/octet-stream; the bytes must hash to the path's sha1),
 * GET /api/v1/deploys/:deploy_id (`state` uploading → processing → ready once nothing is required).
 */
const SITE_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const DEPLOY_KEYS = ["files", "draft", "async", "functions", "title", "branch", "framework"];

interface Deploy {
  siteId: string;
  files: Map<string, string>;
  required: Set<string>;
  polls: number;
}

export interface FakeNetlify extends FakeServer {
  sites: Map<string, { name: string }>;
  deploys: Map<string, Deploy>;
  filesOf(id: string): Map<string, Buffer> | undefined;
}

export async function startFakeNetlify(o: { token: string; maxBody?: number }): Promise<FakeNetlify> {
  const sites: FakeNetlify["sites"] = new Map();
  const deploys = new Map<string, Deploy>();
  const blobs = new Map<string, Buffer>();
  const fail = (status: number, message: string) => ({ status, json: { code: status, message } });
  const handle = (req: FakeRequest) => {
    if (bearer(req) !== o.token) return fail(401, "Access Denied: Origin returned bad status 401");
    const path = req.url.pathname;
    if (req.method === "POST" && path === "/api/v1/sites") {
      const parsed = jsonBody(req);
      if (!parsed.ok) return fail(400, parsed.why);
      const b = parsed.value;
      if (
        !isPlainObject(b) ||
        (b.name !== undefined && (typeof b.name !== "string" || !SITE_NAME.test(b.name)))
      )
        return fail(422, "name: must be lowercase letters, digits and hyphens");
      const name = (b.name as string | undefined) ?? `site-${hex(4)}`;
      if ([...sites.values()].some((s) => s.name === name))
        return { status: 422, json: { errors: { subdomain: ["must be unique"] } } };
      const id = crypto.randomUUID();
      sites.set(id, { name });
      return {
        status: 201,
        json: {
          id,
          site_id: id,
          name,
          url: `http://${name}.netlify.app`,
          ssl_url: `https://${name}.netlify.app`,
        },
      };
    }
    const create = /^\/api\/v1\/sites\/([^/]+)\/deploys$/.exec(path);
    if (req.method === "POST" && create) {
      const siteId = decodeURIComponent(create[1]!);
      if (!sites.has(siteId)) return fail(404, "Not Found");
      const parsed = jsonBody(req);
      if (!parsed.ok) return fail(400, parsed.why);
      const b = parsed.value;
      if (!isPlainObject(b) || unknownKeys(b, DEPLOY_KEYS).length || !isPlainObject(b.files))
        return fail(422, 'a deploy takes `files`: {"/path": "sha1"}');
      const files = new Map<string, string>();
      for (const [p, sha] of Object.entries(b.files)) {
        if (!p.startsWith("/") || !isCleanPath(p.slice(1)) || typeof sha !== "string" || !SHA1.test(sha))
          return fail(422, `invalid file entry ${JSON.stringify(p)}`);
        files.set(p, sha);
      }
      const id = hex(12);
      const required = new Set([...files.values()].filter((sha) => !blobs.has(sha)));
      deploys.set(id, { siteId, files, required, polls: 0 });
      return { status: 200, json: view(id) };
    }
    const put = /^\/api\/v1\/deploys\/([^/]+)\/files\/(.+)$/.exec(path);
    if (req.method === "PUT" && put) {
      const d = deploys.get(decodeURIComponent(put[1]!));
      if (!d) return fail(404, "Not Found");
      if (String(req.headers["content-type"]) !== "application/octet-stream")
        return fail(415, "files are uploaded as application/octet-stream");
      const filePath = `/${put[2]!.split("/").map(decodeURIComponent).join("/")}`;
      const sha = d.files.get(filePath);
      if (!sha) return fail(422, `${filePath} is not part of this deploy`);
      if (sha1(req.body) !== sha) return fail(422, `SHA1 mismatch for ${filePath}`);
      blobs.set(sha, req.body);
      for (const other of deploys.values()) other.required.delete(sha);
      return { status: 200, json: { id: filePath, path: filePath, sha, size: req.body.length } };
    }
    const get = /^\/api\/v1\/deploys\/([^/]+)$/.exec(path);
    if (req.method === "GET" && get) {
      const d = deploys.get(decodeURIComponent(get[1]!));
      if (!d) return fail(404, "Not Found");
      if (!d.required.size) d.polls++;
      return { status: 200, json: view(decodeURIComponent(get[1]!)) };
    }
    return fail(404, "Not Found");
  };
  const view = (id: string) => {
    const d = deploys.get(id)!;
    const name = sites.get(d.siteId)!.name;
    const state = d.required.size ? "uploading" : d.polls < 1 ? "processing" : "ready";
    return {
      id,
      site_id: d.siteId,
      state,
      required: [...d.required],
      ssl_url: `https://${name}.netlify.app`,
      deploy_ssl_url: `https://${id}--${name}.netlify.app`,
    };
  };
  const server = await startFake(o.maxBody ?? 10 * 1024 * 1024, handle, () =>
    fail(413, "Request Entity Too Large"),
  );
  return {
    ...server,
    sites,
    deploys,
    filesOf(id) {
      const d = deploys.get(id);
      if (!d || d.required.size) return undefined;
      return new Map([...d.files].map(([p, sha]) => [p.slice(1), blobs.get(sha)!]));
    },
  };
}
