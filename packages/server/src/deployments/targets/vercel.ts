import { createHash } from "node:crypto";
import {
  type TargetAdapter,
  type TargetContext,
  TargetError,
  type TargetFile,
  withGenerated,
} from "./adapter.ts";
import { type Answer, poll, refused, request } from "./http.ts";

/**
 * Vercel (REST API: "Upload Deployment Files" POST /v2/files, "Create a new deployment" POST /v13/deployments,
 * "Get a deployment" GET /v13/deployments/:id). Files are keyed by their SHA-1; creating a deployment that
 * names a file Vercel has not got answers `missing_files` with the digests to upload, after which the same
 * request is sent again. The project is made by name on its first deployment.
 */
const FINAL = new Set(["READY", "ERROR", "CANCELED"]);

export const vercel: TargetAdapter = {
  kind: "vercel",
  async deploy(ctx, input) {
    const name = "existing" in input.project ? input.project.existing : input.project.create;
    // Vercel makes the project by name with its first deployment: the name is the project's from now on.
    if ("create" in input.project) await input.created(name);
    const files = input.spa
      ? withGenerated(
          input.files,
          "vercel.json",
          JSON.stringify({ rewrites: [{ source: "/(.*)", destination: "/index.html" }] }),
        )
      : input.files;
    const bySha = new Map<string, TargetFile>();
    const listed: { file: string; sha: string; size: number }[] = [];
    for (const f of files) {
      const sha = createHash("sha1")
        .update(await f.read())
        .digest("hex");
      bySha.set(sha, f);
      listed.push({ file: f.path, sha, size: f.size });
    }
    const body = JSON.stringify({
      name,
      files: listed,
      target: "production",
      // Static files as they are: no framework detection, no build on Vercel's side.
      projectSettings: { framework: null },
    });
    let created = await createDeployment(ctx, body);
    const missing = missingOf(created);
    if (missing) {
      ctx.log(`vercel: uploading ${missing.length} of ${listed.length} files`);
      for (const sha of missing) {
        const file = bySha.get(sha);
        if (!file)
          throw new TargetError(`vercel: asked for a file it was never offered (${sha.slice(0, 12)})`);
        await upload(ctx, sha, await file.read());
      }
      created = await createDeployment(ctx, body);
      if (missingOf(created))
        throw refused("vercel: create deployment", created, created.json?.error?.message);
    } else ctx.log(`vercel: all ${listed.length} files already uploaded`);
    if (created.status >= 300)
      throw refused("vercel: create deployment", created, created.json?.error?.message);
    const id = String(created.json?.id ?? "");
    if (!id) throw new TargetError("vercel: the deployment has no id");
    ctx.log(`vercel: deployment ${id} created; waiting for it to be ready`);
    const done = await poll("vercel: deployment", ctx, async () => {
      const answer = await request(
        ctx.fetch,
        "vercel: deployment status",
        api(ctx, `/v13/deployments/${encodeURIComponent(id)}`),
        {
          method: "GET",
          headers: auth(ctx),
          signal: ctx.signal,
        },
      );
      if (answer.status !== 200)
        throw refused("vercel: deployment status", answer, answer.json?.error?.message);
      const state = String(answer.json?.readyState ?? "");
      return FINAL.has(state) ? { state, url: String(answer.json?.url ?? "") } : undefined;
    });
    if (done.state !== "READY") throw new TargetError(`vercel: the deployment ended ${done.state}`);
    return {
      providerProject: name,
      deploymentId: id,
      url: done.url.startsWith("https://") ? done.url : `https://${done.url}`,
    };
  },
};

function api(ctx: TargetContext, path: string): string {
  return `${ctx.apiUrl}${path}${ctx.teamId ? `?teamId=${encodeURIComponent(ctx.teamId)}` : ""}`;
}

function auth(ctx: TargetContext): Record<string, string> {
  return { authorization: `Bearer ${ctx.token}` };
}

function createDeployment(ctx: TargetContext, body: string): Promise<Answer> {
  return request(ctx.fetch, "vercel: create deployment", api(ctx, "/v13/deployments"), {
    method: "POST",
    headers: { ...auth(ctx), "content-type": "application/json" },
    body,
    signal: ctx.signal,
  });
}

/** The digests a `missing_files` refusal names, if it is one. */
function missingOf(answer: Answer): string[] | undefined {
  const error = answer.json?.error;
  if (answer.status !== 400 || error?.code !== "missing_files" || !Array.isArray(error.missing))
    return undefined;
  return error.missing.filter((m: unknown): m is string => typeof m === "string");
}

async function upload(ctx: TargetContext, sha: string, bytes: Buffer): Promise<void> {
  const answer = await request(ctx.fetch, "vercel: upload", api(ctx, "/v2/files"), {
    method: "POST",
    headers: {
      ...auth(ctx),
      "content-type": "application/octet-stream",
      "content-length": String(bytes.length),
      "x-vercel-digest": sha,
    },
    body: bytes,
    signal: ctx.signal,
  });
  if (answer.status !== 200) throw refused("vercel: upload", answer, answer.json?.error?.message);
}
