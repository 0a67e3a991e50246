import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import type { Deployment, DeployTarget } from "@kiln/protocol";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../../db/client.ts";
import { jobs } from "../../db/schema-shared.ts";
import { startFakeVercel } from "../../testing/deploy-hosts/vercel.ts";
import {
  type GitTestbed,
  git,
  join,
  remoteUrl,
  runGit,
  startGitTestbed,
  tempDir,
} from "../../testing/git.ts";
import { uniqueSlug } from "../../testing/harness.ts";

/**
 * The deploy-target API (ADR 0024): tokens go in and never come out, bad bodies are 4xx, another org's
 * target is not found, only admins manage targets and deploy; a server app is refused; an external
 * deployment cannot be promoted; a provider's refusal fails the deployment with a clear log; a merge into
 * main deploys to the targets whose switch is on, and a failing one never fails the merge.
 */

const TOKEN = "vercel-secret-token-abcd1234";

let fake: Awaited<ReturnType<typeof startFakeVercel>>;
let bed: GitTestbed;
let base: string;

beforeAll(async () => {
  fake = await startFakeVercel({ token: TOKEN });
  bed = await startGitTestbed({
    KILN_VERCEL_API_URL: fake.url,
    KILN_DEPLOY_POLL_MS: "20",
    KILN_EGRESS_ALLOW: new URL(fake.url).host,
  });
  base = `/api/orgs/${bed.org.slug}/deploy-targets`;
}, 120_000);

afterAll(async () => {
  await bed?.kiln.stop();
  await fake?.close();
});

async function addTarget(body: Record<string, unknown> = {}): Promise<DeployTarget> {
  const res = await bed.owner.client.post(base, {
    kind: "vercel",
    name: `Vercel ${randomUUID().slice(0, 6)}`,
    token: TOKEN,
    ...body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function finished(api: string, id: string): Promise<Deployment> {
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    const now = (await bed.owner.client.get(`${api}/deployments/${id}`)).json() as Deployment;
    if (now.status !== "building") return now;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the deployment did not finish");
}

const codeOf = (res: { statusCode: number; json(): { error?: { code: string } } }) => [
  res.statusCode,
  res.json().error?.code,
];

describe("deploy targets", () => {
  it("keep their token sealed: never in an answer, only its last four characters", async () => {
    const target = await addTarget({ name: "Production" });
    expect(target).toMatchObject({ kind: "vercel", name: "Production", tokenHint: "…1234", teamId: null });
    const answers = [
      JSON.stringify(target),
      (await bed.owner.client.get(base)).body,
      (await bed.owner.client.patch(`${base}/${target.id}`, { teamId: "team_x" })).body,
      (
        await bed.owner.client.get(
          `/api/orgs/${bed.org.slug}/projects/${(await bed.newProject()).slug}/deploy-targets`,
        )
      ).body,
    ];
    for (const body of answers) expect(body).not.toContain(TOKEN);
    const [row] = await query<{ token_sealed: string }>(
      bed.kiln.database.db,
      sql.raw(
        `SELECT token_sealed FROM "${schemaOf(bed.org.slug)}".deploy_targets WHERE id = '${target.id}'`,
      ),
    );
    expect(row!.token_sealed.startsWith("v1.")).toBe(true);
    expect(row!.token_sealed).not.toContain(TOKEN);
    expect(
      codeOf(await bed.owner.client.post(base, { kind: "vercel", name: "Production", token: TOKEN })),
    ).toEqual([409, "deploy_target_name_taken"]);
  });

  it("refuse garbage, unknown fields, oversized and inconsistent bodies with a 4xx", async () => {
    const bad: unknown[] = [
      { kind: "heroku", name: "x", token: TOKEN },
      { kind: "vercel", name: "x", token: TOKEN, extra: 1 },
      { kind: "vercel", name: "x", token: "short" },
      { kind: "vercel", name: "x", token: `${"a".repeat(2000)}` },
      { kind: "vercel", name: "x", token: "has spaces in it" },
      { kind: "vercel", name: "\u0000bad", token: TOKEN },
      { kind: "cloudflare-pages", name: "x", token: TOKEN },
      { kind: "netlify", name: "x", token: TOKEN, accountId: "abc" },
      { kind: "netlify", name: "x", token: TOKEN, teamId: "team_x" },
      [],
      null,
    ];
    for (const body of bad) {
      const res = await bed.owner.client.post(base, body as object);
      expect(codeOf(res), JSON.stringify(body)).toEqual([400, "validation_failed"]);
    }
    const huge = await bed.owner.client.post(base, {
      kind: "vercel",
      name: "x",
      token: "t".repeat(2 * 1024 * 1024),
    });
    expect(huge.statusCode).toBe(413);
    const netlify = await addTarget({ kind: "netlify" });
    expect(codeOf(await bed.owner.client.patch(`${base}/${netlify.id}`, { teamId: "team_x" }))).toEqual([
      400,
      "validation_failed",
    ]);
    expect(codeOf(await bed.owner.client.patch(`${base}/${netlify.id}`, {}))).toEqual([
      400,
      "validation_failed",
    ]);
  });

  it("are another org's business: its target ids are not found here", async () => {
    const other = await bed.owner.client.post("/api/orgs", { name: "Other", slug: uniqueSlug("other") });
    const foreign = (
      await bed.owner.client.post(`/api/orgs/${other.json().slug}/deploy-targets`, {
        kind: "vercel",
        name: "Theirs",
        token: TOKEN,
      })
    ).json() as DeployTarget;
    const p = await bed.newProject();
    const calls = [
      bed.owner.client.patch(`${base}/${foreign.id}`, { name: "Mine now" }),
      bed.owner.client.delete(`${base}/${foreign.id}`),
      bed.owner.client.patch(`${p.api}/deploy-targets/${foreign.id}`, { autoDeploy: true }),
      bed.owner.client.post(`${p.api}/deploy-targets/${foreign.id}/deployments`),
    ];
    for (const res of await Promise.all(calls)) expect(codeOf(res)).toEqual([404, "deploy_target_not_found"]);
    expect((await bed.owner.client.get(`/api/orgs/${other.json().slug}/deploy-targets`)).json()[0].name).toBe(
      "Theirs",
    );
  });

  it("are managed and deployed to by admins only; every member sees them", async () => {
    const target = await addTarget();
    const p = await bed.newProject();
    const developer = await join(bed.kiln, bed.owner, bed.org.slug, "developer");
    const viewer = await join(bed.kiln, bed.owner, bed.org.slug, "viewer");
    for (const who of [developer, viewer]) {
      expect((await who.client.get(base)).statusCode).toBe(200);
      expect((await who.client.get(base)).body).not.toContain(TOKEN);
      expect((await who.client.get(`${p.api}/deploy-targets`)).statusCode).toBe(200);
      for (const res of [
        await who.client.post(base, { kind: "vercel", name: "Mine", token: TOKEN }),
        await who.client.patch(`${base}/${target.id}`, { token: "another-token-5678" }),
        await who.client.delete(`${base}/${target.id}`),
        await who.client.patch(`${p.api}/deploy-targets/${target.id}`, { autoDeploy: true }),
        await who.client.post(`${p.api}/deploy-targets/${target.id}/deployments`),
      ])
        expect(codeOf(res)).toEqual([403, "forbidden"]);
    }
  });

  it("take static builds only: a server app is refused, and an external deployment is not promoted", async () => {
    const target = await addTarget();
    const server = await bed.owner.client.post(`/api/orgs/${bed.org.slug}/projects`, {
      name: "Api",
      template: "node-api",
    });
    const refused = await bed.owner.client.post(
      `/api/orgs/${bed.org.slug}/projects/${server.json().slug}/deploy-targets/${target.id}/deployments`,
    );
    expect(codeOf(refused)).toEqual([409, "deploy_target_static_only"]);
    const p = await bed.newProject();
    const started = await bed.owner.client.post(`${p.api}/deploy-targets/${target.id}/deployments`);
    expect(started.statusCode, started.body).toBe(202);
    const done = await finished(p.api, started.json().id);
    expect([done.status, done.current, done.target?.name]).toEqual(["ready", false, target.name]);
    expect(codeOf(await bed.owner.client.post(`${p.api}/deployments/${done.id}/promote`))).toEqual([
      409,
      "deployment_external",
    ]);
    const list = (await bed.owner.client.get(`${p.api}/deployments`)).json();
    expect(list.deployments[0]).toMatchObject({ id: done.id, url: done.url });
  });

  it("fail a deployment the provider refuses with the provider's words in the log, never the token", async () => {
    const target = await addTarget({ token: "wrong-token-00000000" });
    const p = await bed.newProject();
    const started = await bed.owner.client.post(`${p.api}/deploy-targets/${target.id}/deployments`);
    const done = await finished(p.api, started.json().id);
    const log = (await bed.owner.client.get(`${p.api}/deployments/${done.id}/log`)).json().log as string;
    expect(done.status).toBe("failed");
    expect(done.error).toContain("the provider answered 403");
    expect(log).toContain("check the target's token");
    expect(log).not.toContain("wrong-token-00000000");
    // A new token fixes it.
    expect((await bed.owner.client.patch(`${base}/${target.id}`, { token: TOKEN })).statusCode).toBe(200);
    const again = await bed.owner.client.post(`${p.api}/deploy-targets/${target.id}/deployments`);
    expect((await finished(p.api, again.json().id)).status).toBe("ready");
  });
});

describe("auto-deploy on merge to main", () => {
  it("deploys to each target whose switch is on; a failing one leaves the merge done", async () => {
    const good = await addTarget();
    const bad = await addTarget({ token: "revoked-token-99999999" });
    const off = await addTarget();
    const p = await bed.newProject();
    for (const t of [good, bad]) {
      const res = await bed.owner.client.patch(`${p.api}/deploy-targets/${t.id}`, { autoDeploy: true });
      expect([res.statusCode, res.json().autoDeploy]).toEqual([200, true]);
    }
    const links = (await bed.owner.client.get(`${p.api}/deploy-targets`)).json() as {
      target: DeployTarget;
      autoDeploy: boolean;
    }[];
    expect(links.find((l) => l.target.id === off.id)?.autoDeploy).toBe(false);

    // An agent's work, pushed to its task branch as a worker does, and its finished job.
    const statuses = (await bed.owner.client.get(`${p.api}/workflow`)).json().statuses as {
      id: string;
      group: string;
    }[];
    const review = statuses.find((s) => s.group === "review")!.id;
    const task = (
      await bed.owner.client.post(`${p.api}/tasks`, { title: "About page", statusId: review })
    ).json();
    const branch = `kiln/task-${task.id}`;
    const work = await tempDir("auto-deploy");
    await git(["clone", "-q", remoteUrl(bed.base, bed.org.slug, p.slug, bed.token), work]);
    await git(["checkout", "-q", "-b", branch], { cwd: work });
    await runGit(["rm", "-q", "script.js"], { cwd: work });
    await git(["commit", "-q", "-m", "about"], { cwd: work });
    await git(["push", "-q", "origin", `HEAD:refs/heads/${branch}`], { cwd: work });
    await rm(work, { recursive: true, force: true });
    await bed.kiln.database.db.insert(jobs).values({
      id: randomUUID(),
      orgId: bed.org.id,
      projectId: p.id,
      taskId: task.id,
      kind: "implement",
      instructions: "Add an about page",
      state: "completed",
      maxAttempts: 1,
      result: { summary: "Done.", branch, commit: null },
      finishedAt: new Date(),
    });

    const approved = await bed.owner.client.post(`${p.api}/tasks/${task.id}/review`, { decision: "approve" });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json().merged).not.toBeNull();
    let deployments: Deployment[] = [];
    for (const until = Date.now() + 60_000; Date.now() < until; ) {
      deployments = (await bed.owner.client.get(`${p.api}/deployments`)).json().deployments;
      if (deployments.length === 2 && deployments.every((d) => d.status !== "building")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const byTarget = new Map(deployments.map((d) => [d.target?.id, d]));
    expect(byTarget.get(good.id)).toMatchObject({ status: "ready", createdBy: bed.owner.user.id });
    expect(byTarget.get(bad.id)).toMatchObject({ status: "failed" });
    expect(byTarget.has(off.id)).toBe(false);
    // What went out is main after the merge: the removed script is not there.
    const shipped = fake.filesOf([...fake.deployments.keys()].at(-1)!)!;
    expect(shipped.has("index.html")).toBe(true);
    expect(shipped.has("script.js")).toBe(false);
  }, 120_000);
});

function schemaOf(slug: string): string {
  return `org_${slug.replaceAll("-", "_")}`;
}
