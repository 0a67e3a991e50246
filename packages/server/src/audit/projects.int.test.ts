import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import type { AuditEvent, Deployment } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobs } from "../db/schema-shared.ts";
import { type GitTestbed, git, remoteUrl, runGit, startGitTestbed, tempDir } from "../testing/git.ts";
import { PRIVATE_TOKEN, startGitServer, type TestGitServer } from "../testing/git-server.ts";
import { buildZip } from "../testing/zip.ts";

/**
 * The audit records of projects (ADR 0033), one per action, through the real routes: created, imported,
 * changed, deleted, their environment, publishes and rollbacks, domains and a task's merge — with the
 * project they concern, and never a secret's value anywhere in the org's export.
 */

const ENV_SECRET = "sk_live_AUDIT-ENV-SECRET-5678";

let server: TestGitServer;
let bed: GitTestbed;
let base: string;

beforeAll(async () => {
  server = await startGitServer();
  bed = await startGitTestbed({
    KILN_EGRESS_ALLOW: `${server.host}:${server.port}`,
    KILN_GIT_CA_FILE: server.caFile,
  });
  base = `/api/orgs/${bed.org.slug}`;
}, 120_000);
afterAll(async () => {
  await bed?.kiln.stop();
  await server?.stop();
});

const client = () => bed.owner.client;
const byOwner = () => ({ type: "user", userId: bed.owner.user.id, email: bed.owner.user.email });

/** The records of one action about one project, newest first, read as the org's owner. */
async function recorded(action: string, projectId: string): Promise<AuditEvent[]> {
  const res = await client().get(`${base}/audit/events?action=${action}&project=${projectId}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().events;
}

/** The whole export of the org's log holds none of these values. */
async function expectNoSecrets(...secrets: string[]): Promise<void> {
  const res = await client().get(`${base}/audit/events.jsonl`);
  expect(res.statusCode).toBe(200);
  expect(res.body.length).toBeGreaterThan(0);
  for (const secret of secrets) expect(res.body).not.toContain(secret);
}

async function publish(api: string): Promise<Deployment> {
  const res = await client().post(`${api}/deployments`);
  expect(res.statusCode, res.body).toBe(202);
  const id = (res.json() as Deployment).id;
  for (const until = Date.now() + 60_000; Date.now() < until; ) {
    const now = (await client().get(`${api}/deployments/${id}`)).json() as Deployment;
    if (now.status !== "building") {
      expect(now.status, JSON.stringify(now)).toBe("ready");
      return now;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the deployment did not finish");
}

describe("audit records of projects", () => {
  it("project.created: its slug and template", async () => {
    const res = await client().post(`${base}/projects`, { name: "Audited site", template: "static" });
    expect(res.statusCode, res.body).toBe(201);
    const project = res.json() as { id: string; slug: string };
    expect(await recorded("project.created", project.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target: { type: "project", id: project.id, label: "Audited site" },
        data: { slug: project.slug, template: "static" },
      }),
    ]);
    await expectNoSecrets();
  });

  it("project.imported: from a zip, and from a git URL without the token it was fetched with", async () => {
    const zip = buildZip([{ name: "index.html", data: Buffer.from("<p>zipped</p>") }]);
    const zipped = await client().request("POST", `${base}/project-imports?name=Zipped`, zip, {
      headers: { "content-type": "application/zip" },
    });
    expect(zipped.statusCode, zipped.body).toBe(201);
    const fromZip = zipped.json().project as { id: string; slug: string; template: string };
    expect(await recorded("project.imported", fromZip.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: fromZip.id,
        target: { type: "project", id: fromZip.id, label: "Zipped" },
        data: { slug: fromZip.slug, template: fromZip.template, sourceKind: "zip" },
      }),
    ]);

    await server.createRepo("audit-private", { "index.html": "<p>private</p>" });
    const url = `https://${server.host}:${server.port}/private/audit-private.git`;
    const cloned = await client().post(`${base}/git-imports`, { url, auth: { token: PRIVATE_TOKEN } });
    expect(cloned.statusCode, cloned.body).toBe(201);
    const fromGit = cloned.json().project as { id: string; slug: string; template: string };
    expect(await recorded("project.imported", fromGit.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: fromGit.id,
        target: { type: "project", id: fromGit.id, label: "audit-private" },
        data: { slug: fromGit.slug, template: fromGit.template, sourceKind: "git", url, branch: "main" },
      }),
    ]);
    await expectNoSecrets(PRIVATE_TOKEN);
  });

  it("project.updated: which fields changed, from what to what", async () => {
    const project = await bed.newProject();
    const res = await client().patch(project.api, { name: "Renamed", description: "Now with words" });
    expect(res.statusCode, res.body).toBe(200);
    expect(await recorded("project.updated", project.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target: { type: "project", id: project.id, label: "Renamed" },
        data: {
          changed: ["name", "description"],
          name: { from: "Site", to: "Renamed" },
          description: { from: "", to: "Now with words" },
        },
      }),
    ]);
    await expectNoSecrets();
  });

  it("project.deleted: the project as it was", async () => {
    const project = await bed.newProject();
    expect((await client().delete(project.api)).statusCode).toBe(200);
    expect(await recorded("project.deleted", project.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target: { type: "project", id: project.id, label: "Site" },
        data: { slug: project.slug },
      }),
    ]);
    await expectNoSecrets();
  });

  it("project.env_set: the name, whether secret, whether new; never the value", async () => {
    const project = await bed.newProject();
    const set = (body: object) => client().put(`${project.api}/env`, body);
    expect((await set({ name: "STRIPE_KEY", value: ENV_SECRET, secret: true })).statusCode).toBe(200);
    expect((await set({ name: "STRIPE_KEY", value: `${ENV_SECRET}-2`, secret: true })).statusCode).toBe(200);
    const target = { type: "env_var", id: `${project.id}:STRIPE_KEY`, label: "STRIPE_KEY" };
    expect(await recorded("project.env_set", project.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target,
        data: { name: "STRIPE_KEY", secret: true, created: false },
      }),
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target,
        data: { name: "STRIPE_KEY", secret: true, created: true },
      }),
    ]);
    await expectNoSecrets(ENV_SECRET, ENV_SECRET.slice(-4));
  });

  it("project.env_deleted: the name", async () => {
    const project = await bed.newProject();
    const set = await client().put(`${project.api}/env`, {
      name: "DB_PASSWORD",
      value: ENV_SECRET,
      secret: true,
    });
    expect(set.statusCode, set.body).toBe(200);
    expect((await client().delete(`${project.api}/env/DB_PASSWORD`)).statusCode).toBe(200);
    expect(await recorded("project.env_deleted", project.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target: { type: "env_var", id: `${project.id}:DB_PASSWORD`, label: "DB_PASSWORD" },
        data: { name: "DB_PASSWORD", secret: true },
      }),
    ]);
    await expectNoSecrets(ENV_SECRET);
  });

  it("deployment.published: the deployment, its number, commit and where", async () => {
    const project = await bed.newProject();
    const deployment = await publish(project.api);
    expect(await recorded("deployment.published", project.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target: { type: "deployment", id: deployment.id, label: "#1" },
        data: {
          deploymentId: deployment.id,
          number: 1,
          commit: deployment.commit,
          target: "kiln",
          url: expect.stringContaining(project.slug),
        },
      }),
    ]);
    await expectNoSecrets();
  });

  it("deployment.rolled_back: to which deployment, from which", async () => {
    const project = await bed.newProject();
    const first = await publish(project.api);
    const put = await client().put(`${project.api}/files/content`, {
      path: "index.html",
      content: "<p>2</p>",
    });
    expect(put.statusCode, put.body).toBe(200);
    const second = await publish(project.api);
    const promoted = await client().post(`${project.api}/deployments/${first.id}/promote`);
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(await recorded("deployment.rolled_back", project.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target: { type: "deployment", id: first.id, label: "#1" },
        data: { deploymentId: first.id, number: 1, fromDeploymentId: second.id, fromNumber: 2 },
      }),
    ]);
    await expectNoSecrets();
  });

  it("domain.added: the hostname", async () => {
    const project = await bed.newProject();
    const res = await client().post(`${project.api}/domains`, { hostname: "Shop.Audit-Example.com" });
    expect(res.statusCode, res.body).toBe(201);
    const domain = res.json() as { id: string; token: string };
    expect(await recorded("domain.added", project.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target: { type: "domain", id: domain.id, label: "shop.audit-example.com" },
        data: { hostname: "shop.audit-example.com" },
      }),
    ]);
    await expectNoSecrets();
  });

  it("domain.removed: the hostname and how far it got", async () => {
    const project = await bed.newProject();
    const res = await client().post(`${project.api}/domains`, { hostname: "gone.audit-example.com" });
    expect(res.statusCode, res.body).toBe(201);
    const domain = res.json() as { id: string };
    expect((await client().delete(`${project.api}/domains/${domain.id}`)).statusCode).toBe(204);
    expect(await recorded("domain.removed", project.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: project.id,
        target: { type: "domain", id: domain.id, label: "gone.audit-example.com" },
        data: { hostname: "gone.audit-example.com", status: "pending" },
      }),
    ]);
    await expectNoSecrets();
  });

  it("task.merged: the task, its branch and the merge commit", async () => {
    const p = await bed.newProject();
    const statuses = (await client().get(`${p.api}/workflow`)).json().statuses as {
      id: string;
      group: string;
    }[];
    const review = statuses.find((s) => s.group === "review")!.id;
    const task = (await client().post(`${p.api}/tasks`, { title: "About page", statusId: review })).json();
    // An agent's work, pushed to its task branch as a worker does, and its finished job.
    const branch = `kiln/task-${task.id}`;
    const work = await tempDir("audit-merge");
    await git(["clone", "-q", remoteUrl(bed.base, bed.org.slug, p.slug, bed.token), work]);
    await git(["checkout", "-q", "-b", branch], { cwd: work });
    await runGit(["rm", "-q", "script.js"], { cwd: work });
    await git(["commit", "-q", "-m", "about"], { cwd: work });
    await git(["push", "-q", "origin", `HEAD:refs/heads/${branch}`], { cwd: work });
    await rm(work, { recursive: true, force: true });
    const jobId = randomUUID();
    await bed.kiln.database.db.insert(jobs).values({
      id: jobId,
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
    const approved = await client().post(`${p.api}/tasks/${task.id}/review`, { decision: "approve" });
    expect(approved.statusCode, approved.body).toBe(200);
    const merged = approved.json().merged as { sha: string };
    expect(await recorded("task.merged", p.id)).toEqual([
      expect.objectContaining({
        actor: byOwner(),
        projectId: p.id,
        target: { type: "task", id: task.id, label: `#${task.number} About page` },
        data: { taskId: task.id, number: task.number, jobId, branch, commit: merged.sha },
      }),
    ]);
    await expectNoSecrets(bed.token);
  });
});
