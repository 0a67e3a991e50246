import { createHash } from "node:crypto";
import {
  ProjectGone,
  type TargetAdapter,
  type TargetContext,
  TargetError,
  type TargetFile,
  withGenerated,
} from "./adapter.ts";
import { poll, refused, request } from "./http.ts";

/**
 * Netlify (API v1, "file digest" deploys): a site is made once (POST /sites), a deploy names every file by
 * path and SHA-1 (POST /sites/:site_id/deploys), its `required` list says which digests to upload (PUT
 * /deploys/:deploy_id/files/:path, application/octet-stream), and GET /deploys/:deploy_id is polled until its
 * `state` is `ready` (or `error`). The site's id is what is remembered.
 */
const FAILED = new Set(["error", "rejected"]);

export const netlify: TargetAdapter = {
  kind: "netlify",
  async deploy(ctx, input) {
    let site: string;
    if ("existing" in input.project) site = input.project.existing;
    else {
      site = await createSite(ctx, input.project.create);
      await input.created(site);
    }
    // Netlify's own SPA rule: every path answers index.html with a 200 unless a file matches first.
    const files = input.spa
      ? withGenerated(input.files, "_redirects", "/*    /index.html   200\n")
      : input.files;
    const digests: Record<string, string> = {};
    const bySha = new Map<string, TargetFile>();
    for (const f of files) {
      const sha = createHash("sha1")
        .update(await f.read())
        .digest("hex");
      digests[`/${f.path}`] = sha;
      bySha.set(sha, f);
    }
    const created = await request(
      ctx.fetch,
      "netlify: create deploy",
      `${ctx.apiUrl}/api/v1/sites/${encodeURIComponent(site)}/deploys`,
      {
        method: "POST",
        headers: { ...auth(ctx), "content-type": "application/json" },
        body: JSON.stringify({ files: digests }),
        signal: ctx.signal,
      },
    );
    if (created.status === 404 && "existing" in input.project)
      throw new ProjectGone(`netlify: site ${site} is gone`, 404);
    if (created.status !== 200) throw refused("netlify: create deploy", created, created.json?.message);
    const id = String(created.json?.id ?? "");
    if (!id) throw new TargetError("netlify: the deploy has no id");
    const required: string[] = Array.isArray(created.json?.required) ? created.json.required : [];
    ctx.log(`netlify: deploy ${id} created; uploading ${required.length} of ${files.length} files`);
    for (const sha of required) {
      const file = bySha.get(sha);
      if (!file)
        throw new TargetError(`netlify: asked for a file it was never offered (${sha.slice(0, 12)})`);
      const bytes = await file.read();
      const path = file.path.split("/").map(encodeURIComponent).join("/");
      const put = await request(
        ctx.fetch,
        "netlify: upload",
        `${ctx.apiUrl}/api/v1/deploys/${encodeURIComponent(id)}/files/${path}`,
        {
          method: "PUT",
          headers: {
            ...auth(ctx),
            "content-type": "application/octet-stream",
            "content-length": String(bytes.length),
          },
          body: bytes,
          signal: ctx.signal,
        },
      );
      if (put.status !== 200) throw refused(`netlify: upload ${file.path}`, put, put.json?.message);
    }
    const done = await poll("netlify: deploy", ctx, async () => {
      const answer = await request(
        ctx.fetch,
        "netlify: deploy status",
        `${ctx.apiUrl}/api/v1/deploys/${encodeURIComponent(id)}`,
        {
          method: "GET",
          headers: auth(ctx),
          signal: ctx.signal,
        },
      );
      if (answer.status !== 200) throw refused("netlify: deploy status", answer, answer.json?.message);
      const state = String(answer.json?.state ?? "");
      if (state === "ready")
        return { ok: true, url: String(answer.json.deploy_ssl_url ?? answer.json.ssl_url ?? "") };
      if (FAILED.has(state)) return { ok: false, url: String(answer.json?.error_message ?? state) };
      return undefined;
    });
    if (!done.ok) throw new TargetError(`netlify: the deploy failed: ${done.url.slice(0, 300)}`);
    return { providerProject: site, deploymentId: id, url: done.url };
  },
};

function auth(ctx: TargetContext): Record<string, string> {
  return { authorization: `Bearer ${ctx.token}` };
}

async function createSite(ctx: TargetContext, name: string): Promise<string> {
  const answer = await request(ctx.fetch, "netlify: create site", `${ctx.apiUrl}/api/v1/sites`, {
    method: "POST",
    headers: { ...auth(ctx), "content-type": "application/json" },
    body: JSON.stringify({ name }),
    signal: ctx.signal,
  });
  if (answer.status !== 201 && answer.status !== 200)
    throw refused("netlify: create site", answer, answer.json?.message ?? answer.json?.errors);
  const id = String(answer.json?.id ?? answer.json?.site_id ?? "");
  if (!id) throw new TargetError("netlify: the new site has no id");
  ctx.log(`netlify: site ${answer.json?.name ?? name} created`);
  return id;
}
