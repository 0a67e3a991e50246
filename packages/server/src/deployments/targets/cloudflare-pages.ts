import { createHash, randomBytes } from "node:crypto";
import { contentTypeOf, extensionOf } from "../mime.ts";
import {
  ProjectGone,
  type TargetAdapter,
  type TargetContext,
  TargetError,
  type TargetFile,
} from "./adapter.ts";
import { type Answer, poll, refused, request } from "./http.ts";

/**
 * Cloudflare Pages, direct upload (what `wrangler pages deploy` does): the project is made once (POST
 * /accounts/:id/pages/projects), an upload JWT is fetched for it, the asset hashes it lacks are asked for
 * (/pages/assets/check-missing), uploaded base64 in batches (/pages/assets/upload), all hashes are marked as in
 * use (/pages/assets/upsert-hashes), then a deployment is made from a `manifest` ({"/path": hash}, multipart)
 * and polled until its latest stage `deploy` succeeds. Every answer is the v4 envelope
 * `{success, errors, messages, result}`.
 *
 * Asset keys: wrangler hashes base64(content) + extension with BLAKE3 and keeps 32 hex digits. Node has no
 * BLAKE3 and Kiln takes no dependency for it; the API keys an asset by whatever 32-hex hash the client gives,
 * so Kiln uses BLAKE2s-256 of the same input, cut to 32 hex (ADR 0024). Assets are then not shared with ones
 * wrangler uploaded, which costs only a re-upload.
 */
const BATCH_BYTES = 40 * 1024 * 1024;
const BATCH_FILES = 1000;

export function assetHash(bytes: Buffer, path: string): string {
  const ext = extensionOf(path);
  return createHash("blake2s256")
    .update(bytes.toString("base64") + ext)
    .digest("hex")
    .slice(0, 32);
}

export const cloudflarePages: TargetAdapter = {
  kind: "cloudflare-pages",
  async deploy(ctx, input) {
    if (!ctx.accountId) throw new TargetError("cloudflare: the target has no account id");
    const projects = `${ctx.apiUrl}/accounts/${encodeURIComponent(ctx.accountId)}/pages/projects`;
    let name: string;
    if ("existing" in input.project) name = input.project.existing;
    else {
      name = await createProject(ctx, projects, input.project.create);
      await input.created(name);
    }
    const token = await call(
      ctx,
      "cloudflare: upload token",
      `${projects}/${encodeURIComponent(name)}/upload-token`,
      { method: "GET" },
    ).catch((err: unknown) => {
      if (err instanceof TargetError && err.status === 404 && "existing" in input.project)
        throw new ProjectGone(`cloudflare: project ${name} is gone`, 404);
      throw err;
    });
    const jwt = String(token.json.result?.jwt ?? "");
    if (!jwt) throw new TargetError("cloudflare: no upload token");
    const manifest: Record<string, string> = {};
    const byHash = new Map<string, TargetFile>();
    for (const f of input.files) {
      const hash = assetHash(await f.read(), f.path);
      manifest[`/${f.path}`] = hash;
      byHash.set(hash, f);
    }
    const hashes = [...byHash.keys()];
    const asset = (path: string, body: unknown) =>
      call(ctx, `cloudflare: ${path}`, `${ctx.apiUrl}/pages/assets/${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const missing = (await asset("check-missing", { hashes })).json.result;
    if (!Array.isArray(missing)) throw new TargetError("cloudflare: check-missing answered no list");
    ctx.log(`cloudflare: uploading ${missing.length} of ${hashes.length} files`);
    let batch: unknown[] = [];
    let batchBytes = 0;
    const flush = async () => {
      if (batch.length) await asset("upload", batch);
      batch = [];
      batchBytes = 0;
    };
    for (const hash of missing) {
      const file = byHash.get(String(hash));
      if (!file) throw new TargetError("cloudflare: asked for a file it was never offered");
      const value = (await file.read()).toString("base64");
      if (batch.length >= BATCH_FILES || batchBytes + value.length > BATCH_BYTES) await flush();
      batch.push({ key: hash, value, metadata: { contentType: contentTypeOf(file.path) }, base64: true });
      batchBytes += value.length;
    }
    await flush();
    await asset("upsert-hashes", { hashes });
    const form = multipart({ manifest: JSON.stringify(manifest), branch: "main" });
    const created = await call(
      ctx,
      "cloudflare: create deployment",
      `${projects}/${encodeURIComponent(name)}/deployments`,
      {
        method: "POST",
        headers: { "content-type": `multipart/form-data; boundary=${form.boundary}` },
        body: form.body,
      },
    );
    const id = String(created.json.result?.id ?? "");
    if (!id) throw new TargetError("cloudflare: the deployment has no id");
    ctx.log(`cloudflare: deployment ${id} created; waiting for it to be live`);
    const done = await poll("cloudflare: deployment", ctx, async () => {
      const answer = await call(
        ctx,
        "cloudflare: deployment status",
        `${projects}/${encodeURIComponent(name)}/deployments/${encodeURIComponent(id)}`,
        { method: "GET" },
      );
      const stage = answer.json.result?.latest_stage ?? {};
      if (stage.status === "failure" || stage.status === "canceled")
        return { ok: false, url: `${stage.name} ${stage.status}` };
      if (stage.name === "deploy" && stage.status === "success")
        return { ok: true, url: String(answer.json.result.url ?? "") };
      return undefined;
    });
    if (!done.ok) throw new TargetError(`cloudflare: the deployment ended at ${done.url}`);
    return { providerProject: name, deploymentId: id, url: done.url };
  },
};

/** A v4 call: the account token unless headers say otherwise; anything but `success: true` is a refusal. */
async function call(
  ctx: TargetContext,
  what: string,
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string | Uint8Array },
): Promise<Answer> {
  const answer = await request(ctx.fetch, what, url, {
    method: init.method,
    headers: { authorization: `Bearer ${ctx.token}`, ...init.headers },
    ...(init.body === undefined ? {} : { body: init.body }),
    signal: ctx.signal,
  });
  if (answer.status >= 300 || answer.json?.success !== true) throw refused(what, answer, answer.json?.errors);
  return answer;
}

async function createProject(ctx: TargetContext, projects: string, name: string): Promise<string> {
  const answer = await call(ctx, "cloudflare: create project", projects, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name, production_branch: "main" }),
  });
  ctx.log(`cloudflare: project ${answer.json.result?.name ?? name} created`);
  return String(answer.json.result?.name ?? name);
}

/** multipart/form-data of text fields (RFC 7578), as bytes: the egress fetch sends strings and bytes only. */
function multipart(fields: Record<string, string>): { boundary: string; body: Uint8Array } {
  const boundary = `----kiln${randomBytes(12).toString("hex")}`;
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return { boundary, body: Buffer.from(`${parts.join("")}--${boundary}--\r\n`, "utf8") };
}
