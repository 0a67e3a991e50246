import type { Role, Task, TaskActivity, Workflow } from "@kiln/protocol";
import type { LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import type { JobStarter, StartJobContext } from "../board/automation/job-starter.ts";
import type { TestClient } from "./client.ts";
import { type SignedUp, type TestKiln, uniqueSlug } from "./harness.ts";

/** Shared set-up for the task board's integration tests: an org, projects, members, a job runner. */

/** A job runner that only records what it was asked: the real queue lives in jobs/. */
export class RecordingJobStarter implements JobStarter {
  readonly calls: StartJobContext[] = [];
  failWith: Error | undefined;

  async startJob(ctx: StartJobContext): Promise<{ jobId: string }> {
    if (this.failWith) throw this.failWith;
    this.calls.push(ctx);
    return { jobId: `job-${this.calls.length}` };
  }

  kinds(taskId?: string): string[] {
    return this.calls.filter((c) => taskId === undefined || c.taskId === taskId).map((c) => c.kind);
  }
}

export interface Board {
  org: string;
  orgId: string;
  project: string;
  projectId: string;
  base: string;
  owner: SignedUp;
}

export async function newOrg(
  kiln: TestKiln,
  owner?: SignedUp,
): Promise<{ slug: string; id: string; owner: SignedUp }> {
  const who = owner ?? (await kiln.signup());
  const res = await who.client.post("/api/orgs", { name: "Board", slug: uniqueSlug("board") });
  expect(res.statusCode).toBe(201);
  return { slug: res.json().slug, id: res.json().id, owner: who };
}

export async function newBoard(
  kiln: TestKiln,
  org?: { slug: string; id: string; owner: SignedUp },
): Promise<Board> {
  const o = org ?? (await newOrg(kiln));
  const res = await o.owner.client.post(`/api/orgs/${o.slug}/projects`, {
    name: "Board project",
    template: "static",
  });
  expect(res.statusCode).toBe(201);
  const project = res.json();
  return {
    org: o.slug,
    orgId: o.id,
    project: project.slug,
    projectId: project.id,
    base: `/api/orgs/${o.slug}/projects/${project.slug}`,
    owner: o.owner,
  };
}

/** Signs up a new user and brings them into the board's org with `role`, the way a person would. */
export async function join(kiln: TestKiln, board: Board, role: Role): Promise<SignedUp> {
  const member = await kiln.signup();
  const invited = await board.owner.client.post(`/api/orgs/${board.org}/invitations`, {
    email: member.user.email,
    role,
  });
  expect(invited.statusCode).toBe(201);
  const token = new URL(invited.json().url).pathname.split("/").at(-1);
  const accepted = await member.client.post(`/api/invitations/${token}/accept`);
  expect(accepted.statusCode).toBe(200);
  return member;
}

export async function workflowOf(board: Board, client: TestClient = board.owner.client): Promise<Workflow> {
  const res = await client.get(`${board.base}/workflow`);
  expect(res.statusCode).toBe(200);
  return res.json();
}

/** Status ids by name. */
export async function statusIds(board: Board): Promise<Record<string, string>> {
  const workflow = await workflowOf(board);
  return Object.fromEntries(workflow.statuses.map((s) => [s.name, s.id]));
}

export async function createTask(
  board: Board,
  body: Record<string, unknown>,
  client = board.owner.client,
): Promise<Task> {
  const res = await client.post(`${board.base}/tasks`, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

export async function move(
  board: Board,
  taskId: string,
  body: Record<string, unknown>,
): Promise<LightMyRequestResponse> {
  return board.owner.client.post(`${board.base}/tasks/${taskId}/move`, body);
}

export async function moved(board: Board, taskId: string, body: Record<string, unknown>): Promise<Task> {
  const res = await move(board, taskId, body);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

export async function activityOf(board: Board, taskId: string): Promise<TaskActivity[]> {
  const res = await board.owner.client.get(`${board.base}/tasks/${taskId}/activity`);
  expect(res.statusCode).toBe(200);
  return res.json();
}

export function errorOf(res: LightMyRequestResponse): [number, string | undefined] {
  return [res.statusCode, res.json()?.error?.code];
}
