import {
  bearer,
  type FakeRequest,
  type FakeServer,
  hex,
  isCleanPath,
  isPlainObject,
  jsonBody,
  startFake,
  unknownKeys,
} from "./http.ts";

/**
 * A strict fake of Cloudflare Pages' direct upload (API v4, envelope `{success, errors, messages, result}`):
 * project create and get, the upload JWT, /pages/assets/check-missing, /upload (base64 payloads keyed by a
 * 32-hex hash), /upsert-hashes (only hashes it holds), and a deployment from a multipart `manifest` whose every
 * hash was uploaded; `latest_stage` goes queued → deploy active → deploy success, one step per poll.
 */
const PROJECT = /^[a-z0-9]([a-z0-9-]{0,56}[a-z0-9])?$/;
const HASH = /^[0-9a-f]{32}$/;

interface Deployment {
  project: string;
  manifest: Map<string, string>;
  polls: number;
}

export interface FakeCloudflare extends FakeServer {
  projects: Set<string>;
  deployments: Map<string, Deployment>;
  filesOf(id: string): Map<string, Buffer> | undefined;
}

export async function startFakeCloudflare(o: {
  token: string;
  accountId: string;
  maxBody?: number;
}): Promise<FakeCloudflare> {
  const projects = new Set<string>();
  const deployments = new Map<string, Deployment>();
  const assets = new Map<string, Buffer>();
  const jwts = new Map<string, string>();
  const ok = (result: unknown) => ({
    status: 200,
    json: { success: true, errors: [], messages: [], result },
  });
  const fail = (status: number, code: number, message: string) => ({
    status,
    json: { success: false, errors: [{ code, message }], messages: [], result: null },
  });
  const handle = async (req: FakeRequest) => {
    const path = req.url.pathname;
    if (path.startsWith("/pages/assets/")) {
      if (!jwts.has(bearer(req) ?? ""))
        return fail(401, 8000013, "Authorization failed: the upload JWT is invalid");
      if (req.method !== "POST") return fail(405, 10000, "method not allowed");
      const parsed = jsonBody(req);
      if (!parsed.ok) return fail(400, 8000096, parsed.why);
      const b = parsed.value;
      const what = path.slice("/pages/assets/".length);
      if (what === "check-missing" || what === "upsert-hashes") {
        if (!isPlainObject(b) || unknownKeys(b, ["hashes"]).length || !Array.isArray(b.hashes))
          return fail(400, 8000096, "body is {hashes: [...]}");
        if (!b.hashes.every((h) => typeof h === "string" && HASH.test(h)))
          return fail(400, 8000096, "a hash is 32 hex digits");
        const missing = (b.hashes as string[]).filter((h) => !assets.has(h));
        if (what === "check-missing") return ok(missing);
        return missing.length ? fail(400, 8000096, `unknown hashes: ${missing.length}`) : ok(true);
      }
      if (what === "upload") {
        if (!Array.isArray(b) || b.length === 0) return fail(400, 8000096, "body is a list of assets");
        for (const a of b) {
          if (!isPlainObject(a) || unknownKeys(a, ["key", "value", "metadata", "base64"]).length)
            return fail(400, 8000096, "an asset is {key, value, metadata, base64}");
          if (typeof a.key !== "string" || !HASH.test(a.key))
            return fail(400, 8000096, "a key is 32 hex digits");
          if (a.base64 !== true || typeof a.value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(a.value))
            return fail(400, 8000096, "value must be base64 with base64: true");
          if (!isPlainObject(a.metadata) || typeof a.metadata.contentType !== "string")
            return fail(400, 8000096, "metadata.contentType is required");
        }
        for (const a of b as { key: string; value: string }[])
          assets.set(a.key, Buffer.from(a.value, "base64"));
        return ok(null);
      }
      return fail(404, 7003, "Could not route to the requested path");
    }
    const m =
      /^\/accounts\/([^/]+)\/pages\/projects(?:\/([^/]+))?(\/upload-token|\/deployments(?:\/([^/]+))?)?$/.exec(
        path,
      );
    if (!m) return fail(404, 7003, "Could not route to the requested path");
    if (bearer(req) !== o.token) return fail(401, 10000, "Authentication error");
    if (decodeURIComponent(m[1]!) !== o.accountId)
      return fail(403, 9109, "Unauthorized to access requested resource");
    const name = m[2] ? decodeURIComponent(m[2]) : undefined;
    if (!name && req.method === "POST" && !m[3]) {
      const parsed = jsonBody(req);
      if (!parsed.ok) return fail(400, 8000096, parsed.why);
      const b = parsed.value;
      if (
        !isPlainObject(b) ||
        unknownKeys(b, ["name", "production_branch", "build_config", "deployment_configs"]).length
      )
        return fail(400, 8000096, "invalid project body");
      if (typeof b.name !== "string" || !PROJECT.test(b.name))
        return fail(400, 8000011, "invalid project name");
      if (projects.has(b.name)) return fail(409, 8000002, "A project with this name already exists");
      projects.add(b.name);
      return ok({
        name: b.name,
        subdomain: `${b.name}.pages.dev`,
        production_branch: b.production_branch ?? "main",
      });
    }
    if (!name || !projects.has(name)) return fail(404, 8000007, "Project not found");
    if (m[3] === "/upload-token" && req.method === "GET") {
      const jwt = `${hex(8)}.${hex(16)}.${hex(16)}`;
      jwts.set(jwt, name);
      return ok({ jwt });
    }
    if (m[3] === "/deployments" && req.method === "POST") {
      const type = String(req.headers["content-type"] ?? "");
      if (!type.startsWith("multipart/form-data"))
        return fail(400, 8000096, "a deployment is multipart/form-data");
      let form: FormData;
      try {
        form = await new Request("http://fake/", {
          method: "POST",
          headers: { "content-type": type },
          body: req.body,
        }).formData();
      } catch {
        return fail(400, 8000096, "the form data cannot be read");
      }
      let manifest: unknown;
      try {
        manifest = JSON.parse(String(form.get("manifest") ?? ""));
      } catch {
        return fail(400, 8000096, "manifest must be JSON");
      }
      if (!isPlainObject(manifest)) return fail(400, 8000096, "manifest must be an object");
      const files = new Map<string, string>();
      for (const [p, h] of Object.entries(manifest)) {
        if (!p.startsWith("/") || !isCleanPath(p.slice(1)) || typeof h !== "string" || !HASH.test(h))
          return fail(400, 8000096, `invalid manifest entry ${JSON.stringify(p)}`);
        if (!assets.has(h)) return fail(400, 8000096, `the asset for ${p} was never uploaded`);
        files.set(p, h);
      }
      const id = crypto.randomUUID();
      deployments.set(id, { project: name, manifest: files, polls: 0 });
      return ok(view(id));
    }
    if (m[3]?.startsWith("/deployments/") && req.method === "GET") {
      const id = decodeURIComponent(m[4]!);
      const d = deployments.get(id);
      if (!d || d.project !== name) return fail(404, 8000009, "Deployment not found");
      d.polls++;
      return ok(view(id));
    }
    if (!m[3] && req.method === "GET") return ok({ name, subdomain: `${name}.pages.dev` });
    return fail(405, 10000, "method not allowed");
  };
  const view = (id: string) => {
    const d = deployments.get(id)!;
    const stage = [
      { name: "queued", status: "active" },
      { name: "deploy", status: "active" },
      { name: "deploy", status: "success" },
    ][Math.min(d.polls, 2)];
    return {
      id,
      project_name: d.project,
      url: `https://${id.slice(0, 8)}.${d.project}.pages.dev`,
      latest_stage: stage,
    };
  };
  const server = await startFake(o.maxBody ?? 10 * 1024 * 1024, handle, () =>
    fail(413, 8000096, "payload too large"),
  );
  return {
    ...server,
    projects,
    deployments,
    filesOf(id) {
      const d = deployments.get(id);
      if (!d) return undefined;
      return new Map([...d.manifest].map(([p, h]) => [p.slice(1), assets.get(h)!]));
    },
  };
}
