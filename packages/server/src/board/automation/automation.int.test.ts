import { AUTOMATION_MAX_DEPTH, type AutomationRule } from "@kiln/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  activityOf,
  type Board,
  createTask,
  errorOf,
  join,
  moved,
  newBoard,
  RecordingJobStarter,
  statusIds,
} from "../../testing/board.ts";
import { startTestKiln, type TestKiln } from "../../testing/harness.ts";

let kiln: TestKiln;
const jobs = new RecordingJobStarter();

beforeAll(async () => {
  kiln = await startTestKiln();
  kiln.services.automation.useJobStarter(jobs);
}, 120_000);
afterAll(() => kiln?.stop());
afterEach(() => {
  jobs.calls.length = 0;
  jobs.failWith = undefined;
  kiln.services.automation.useJobStarter(jobs);
});

async function addRule(board: Board, body: Record<string, unknown>): Promise<AutomationRule> {
  const res = await board.owner.client.post(`${board.base}/automation/rules`, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function taskNow(board: Board, id: string) {
  return (await board.owner.client.get(`${board.base}/tasks/${id}`)).json();
}

describe("the software-development workflow's rules", () => {
  it("are listed with the workflow", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const rules: AutomationRule[] = (await board.owner.client.get(`${board.base}/automation/rules`)).json();
    expect(rules.map((r) => [r.name, r.trigger, r.conditions, r.actions, r.enabled, r.createdBy])).toEqual([
      [
        "Implement when an agent's task starts",
        { type: "task_moved", toStatus: s["In progress"] },
        { assigneeType: "agent" },
        [{ type: "start_job", kind: "implement" }],
        true,
        null,
      ],
      [
        "Start when the agent is assigned a task to do",
        { type: "task_assigned" },
        { assigneeType: "agent", statusIn: [s["To do"], s["In progress"]] },
        [
          { type: "move", statusId: s["In progress"] },
          { type: "start_job", kind: "implement" },
        ],
        true,
        null,
      ],
      [
        "Review when a task reaches Review",
        { type: "task_moved", toStatus: s.Review },
        {},
        [{ type: "start_job", kind: "review" }],
        true,
        null,
      ],
    ]);
  });

  it("start an implement job when an agent's task moves to In progress, and a review job at Review", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const task = await createTask(board, { title: "Build the login page", assignee: { type: "agent" } });
    await moved(board, task.id, { statusId: s["To do"] });
    expect(jobs.calls).toEqual([]);
    await moved(board, task.id, { statusId: s["In progress"] });
    expect(jobs.calls).toHaveLength(1);
    const [rule] = (await board.owner.client.get(`${board.base}/automation/rules`)).json();
    expect(jobs.calls[0]).toMatchObject({
      projectId: board.projectId,
      taskId: task.id,
      kind: "implement",
      requestedBy: board.owner.user.id,
      ruleId: rule.id,
      depth: 1,
    });
    expect(jobs.calls[0]!.org.id).toBe(board.orgId);
    await moved(board, task.id, { statusId: s.Review });
    expect(jobs.kinds(task.id)).toEqual(["implement", "review"]);

    const log = await activityOf(board, task.id);
    const started = log.filter((e) => e.kind === "job_started");
    expect(started.map((e) => e.to)).toEqual([
      { jobId: "job-1", kind: "implement" },
      { jobId: "job-2", kind: "review" },
    ]);
    expect(started[0]!.actor).toEqual({ type: "automation", ruleId: rule.id, depth: 1 });
  });

  it("start the agent's job once when a To do task is handed to the agent: it moves to In progress", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const task = await createTask(board, { title: "Add a footer" });
    await moved(board, task.id, { statusId: s["To do"] });
    const res = await board.owner.client.patch(`${board.base}/tasks/${task.id}`, {
      assignee: { type: "agent" },
    });
    expect(res.statusCode, res.body).toBe(200);
    // Both rules want an implement job (the assignment's, and the move's it sets off): one starts.
    expect(res.json().statusId).toBe(s["In progress"]);
    expect(jobs.calls).toMatchObject([
      { taskId: task.id, kind: "implement", requestedBy: board.owner.user.id },
    ]);
    const log = await activityOf(board, task.id);
    expect(log.filter((e) => e.kind === "job_started")).toHaveLength(1);
    expect(log.map((e) => e.kind)).toEqual(["created", "moved", "assignee_changed", "moved", "job_started"]);

    // The same assignee again changes nothing and starts nothing.
    await board.owner.client.patch(`${board.base}/tasks/${task.id}`, { assignee: { type: "agent" } });
    expect(jobs.calls).toHaveLength(1);
  });

  it("start the agent's job for a task created in In progress or To do for the agent", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const doing = await createTask(board, {
      title: "Already started",
      statusId: s["In progress"],
      assignee: { type: "agent" },
    });
    expect(doing.statusId).toBe(s["In progress"]);
    expect(jobs.kinds(doing.id)).toEqual(["implement"]);
    const todo = await createTask(board, {
      title: "Next",
      statusId: s["To do"],
      assignee: { type: "agent" },
    });
    expect(todo.statusId).toBe(s["In progress"]);
    expect(jobs.kinds(todo.id)).toEqual(["implement"]);
    expect(jobs.calls).toHaveLength(2);
  });

  it("start nothing for the agent's task in Backlog, Review or Done, nor for a member's task in To do", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const later = await createTask(board, { title: "Some day", assignee: { type: "agent" } });
    expect(later.statusId).toBe(s.Backlog);
    const mine = await createTask(board, {
      title: "Mine",
      statusId: s["To do"],
      assignee: { type: "member", userId: board.owner.user.id },
    });
    expect(mine.statusId).toBe(s["To do"]);
    const done = await createTask(board, { title: "Shipped", statusId: s["To do"] });
    await moved(board, done.id, { statusId: s["In progress"] });
    await moved(board, done.id, { statusId: s.Review });
    await moved(board, done.id, { statusId: s.Done });
    jobs.calls.length = 0;
    const res = await board.owner.client.patch(`${board.base}/tasks/${done.id}`, {
      assignee: { type: "agent" },
    });
    expect(res.json().statusId).toBe(s.Done);
    expect(jobs.calls).toEqual([]);
  });

  it("start no implement job for a person's task, but still review it", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const task = await createTask(board, {
      title: "By hand",
      assignee: { type: "member", userId: board.owner.user.id },
    });
    await moved(board, task.id, { statusId: s["In progress"] });
    expect(jobs.calls).toEqual([]);
    await moved(board, task.id, { statusId: s.Review });
    expect(jobs.kinds()).toEqual(["review"]);
  });

  it("note in the activity that no job runner is configured when there is none", async () => {
    kiln.services.automation.useJobStarter(undefined);
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const task = await createTask(board, { title: "Nobody to run it", assignee: { type: "agent" } });
    await moved(board, task.id, { statusId: s["In progress"] });
    const note = (await activityOf(board, task.id)).find((e) => e.kind === "job_not_started");
    expect(note?.message).toMatch(/no job runner configured/);
    expect(note?.to).toEqual({ kind: "implement" });
  });

  it("note a job runner's failure, and the move itself still stands", async () => {
    jobs.failWith = new Error("queue down");
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const task = await createTask(board, { title: "Unlucky", assignee: { type: "agent" } });
    const after = await moved(board, task.id, { statusId: s["In progress"] });
    expect(after.statusId).toBe(s["In progress"]);
    const failed = (await activityOf(board, task.id)).find((e) => e.kind === "automation_failed");
    expect(failed?.message).toMatch(/start_job failed/);
  });
});

describe("custom rules", () => {
  it("fire on creation when the conditions hold: comment, assign, move", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const rule = await addRule(board, {
      name: "Triage urgent bugs",
      trigger: { type: "task_created" },
      conditions: { labelsInclude: ["bug"], priorityIn: ["high", "urgent"], assigneeType: "none" },
      actions: [
        { type: "comment", text: "Triaged automatically" },
        { type: "assign", assignee: { type: "agent" } },
        { type: "move", statusId: s["To do"] },
      ],
    });
    const skipped = await createTask(board, { title: "Low bug", labels: ["bug"], priority: "low" });
    expect(skipped.statusId).toBe(s.Backlog);
    const hit = await createTask(board, { title: "Crash", labels: ["bug", "ui"], priority: "urgent" });
    // The answer shows the task as the rules left it.
    expect(hit).toMatchObject({ statusId: s["To do"], assignee: { type: "agent" } });

    const comments = (await board.owner.client.get(`${board.base}/tasks/${hit.id}/comments`)).json();
    expect(comments).toMatchObject([
      { body: "Triaged automatically", author: { type: "automation", ruleId: rule.id } },
    ]);
    const log = await activityOf(board, hit.id);
    const byRule = { type: "automation", ruleId: rule.id, depth: 1 };
    expect(log.map((e) => [e.kind, e.actor])).toEqual([
      ["created", { type: "member", userId: board.owner.user.id }],
      ["commented", byRule],
      ["assignee_changed", byRule],
      ["moved", byRule],
    ]);
  });

  it("fire on assignment and on comments", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    await addRule(board, {
      name: "Agent picks it up",
      trigger: { type: "task_assigned" },
      conditions: { assigneeType: "agent" },
      actions: [{ type: "move", statusId: s["To do"] }],
    });
    await addRule(board, {
      name: "Fix on request",
      trigger: { type: "task_commented" },
      conditions: { labelsInclude: ["fixme"] },
      actions: [{ type: "start_job", kind: "fix", instructions: "Read the last comment" }],
    });
    const task = await createTask(board, { title: "Assign me", labels: ["fixme"] });
    const res = await board.owner.client.patch(`${board.base}/tasks/${task.id}`, {
      assignee: { type: "agent" },
    });
    expect(res.json().statusId).toBe(s["To do"]);
    expect(
      (await board.owner.client.post(`${board.base}/tasks/${task.id}/comments`, { body: "Please fix" }))
        .statusCode,
    ).toBe(201);
    expect(jobs.calls).toMatchObject([
      {
        kind: "fix",
        instructions: expect.stringContaining("Read the last comment"),
        taskId: task.id,
        depth: 1,
      },
    ]);
  });

  it("that undo each other stop at the depth limit, and the refusal is in the activity", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const forth = await addRule(board, {
      name: "Forth",
      trigger: { type: "task_moved", toStatus: s["To do"] },
      actions: [{ type: "move", statusId: s["In progress"] }],
    });
    const back = await addRule(board, {
      name: "Back",
      trigger: { type: "task_moved", toStatus: s["In progress"] },
      actions: [{ type: "move", statusId: s["To do"] }],
    });
    const task = await createTask(board, { title: "Ping pong" });
    const after = await moved(board, task.id, { statusId: s["To do"] });

    const log = await activityOf(board, task.id);
    const moves = log.filter((e) => e.kind === "moved");
    // The person's move, then one per depth 1..5, alternating.
    expect(moves.map((e) => e.actor)).toEqual([
      { type: "member", userId: board.owner.user.id },
      ...Array.from({ length: AUTOMATION_MAX_DEPTH }, (_, i) => ({
        type: "automation",
        ruleId: i % 2 === 0 ? forth.id : back.id,
        depth: i + 1,
      })),
    ]);
    const refused = log.filter((e) => e.kind === "automation_refused");
    expect(refused).toHaveLength(1);
    expect(refused[0]!.actor).toEqual({
      type: "automation",
      ruleId: back.id,
      depth: AUTOMATION_MAX_DEPTH + 1,
    });
    expect(refused[0]!.message).toMatch(/depth 6.*limit is 5/);
    // Five rule moves from To do: it ends in In progress, and the answer says so.
    expect(after.statusId).toBe(s["In progress"]);
    expect((await taskNow(board, task.id)).statusId).toBe(s["In progress"]);
  });

  it("that fan out are bounded per change", async () => {
    const board = await newBoard(kiln);
    // Each comment sets off two rules that each comment again: 2^depth runs without a budget.
    for (const name of ["Echo 1", "Echo 2"]) {
      await addRule(board, {
        name,
        trigger: { type: "task_commented" },
        actions: [{ type: "comment", text: name }],
      });
    }
    const task = await createTask(board, { title: "Echo chamber" });
    const res = await board.owner.client.post(`${board.base}/tasks/${task.id}/comments`, { body: "hello" });
    expect(res.statusCode).toBe(201);
    const comments = (await board.owner.client.get(`${board.base}/tasks/${task.id}/comments`)).json();
    // 2 + 4 + 8 + 16 + 32 = 62 runs without a budget; the budget stops them at 50.
    expect(comments.length).toBe(1 + 50);
    expect((await activityOf(board, task.id)).some((e) => e.kind === "automation_refused")).toBe(true);
  });

  it("whose move breaks the workflow note the failure", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    await addRule(board, {
      name: "Straight to done",
      trigger: { type: "task_created" },
      actions: [{ type: "move", statusId: s.Done }],
    });
    const task = await createTask(board, { title: "Too fast" });
    expect(task.statusId).toBe(s.Backlog);
    const failed = (await activityOf(board, task.id)).find((e) => e.kind === "automation_failed");
    expect(failed?.message).toMatch(
      /move failed: the workflow does not allow moving a task from "Backlog" to "Done"/,
    );
  });

  it("that are disabled do not fire; deleted ones are gone", async () => {
    const board = await newBoard(kiln);
    const rule = await addRule(board, {
      name: "Hello",
      trigger: { type: "task_created" },
      actions: [{ type: "comment", text: "hello" }],
    });
    const url = `${board.base}/automation/rules/${rule.id}`;
    const disabled = await board.owner.client.patch(url, { enabled: false });
    expect(disabled.json()).toMatchObject({ enabled: false, name: "Hello" });
    const task = await createTask(board, { title: "Quiet" });
    expect((await board.owner.client.get(`${board.base}/tasks/${task.id}/comments`)).json()).toEqual([]);

    const edited = await board.owner.client.patch(url, {
      enabled: true,
      name: "Hi",
      actions: [{ type: "comment", text: "hi" }],
    });
    expect(edited.json()).toMatchObject({
      enabled: true,
      name: "Hi",
      actions: [{ type: "comment", text: "hi" }],
    });
    expect((await board.owner.client.get(url)).json()).toEqual(edited.json());
    expect((await board.owner.client.delete(url)).statusCode).toBe(204);
    expect(errorOf(await board.owner.client.get(url))).toEqual([404, "rule_not_found"]);
    expect(errorOf(await board.owner.client.delete(url))).toEqual([404, "rule_not_found"]);
  });
});

describe("rule input", () => {
  it("refuses statuses and members from elsewhere, other projects' rules and malformed rules", async () => {
    const board = await newBoard(kiln);
    const other = await newBoard(kiln);
    const foreignStatus = (await statusIds(other))["To do"];
    const foreignRule = (await other.owner.client.get(`${other.base}/automation/rules`)).json()[0].id;
    const stranger = await kiln.signup();
    const rules = `${board.base}/automation/rules`;
    const post = (body: Record<string, unknown>) => board.owner.client.post(rules, body);
    expect(
      errorOf(
        await post({
          name: "x",
          trigger: { type: "task_moved", toStatus: foreignStatus },
          actions: [{ type: "comment", text: "x" }],
        }),
      ),
    ).toEqual([400, "status_not_found"]);
    expect(
      errorOf(
        await post({
          name: "x",
          trigger: { type: "task_created" },
          actions: [{ type: "move", statusId: foreignStatus }],
        }),
      ),
    ).toEqual([400, "status_not_found"]);
    expect(
      errorOf(
        await post({
          name: "x",
          trigger: { type: "task_created" },
          actions: [{ type: "assign", assignee: { type: "member", userId: stranger.user.id } }],
        }),
      ),
    ).toEqual([400, "assignee_not_member"]);
    for (const body of [
      { name: "x", trigger: { type: "task_created" }, actions: [] },
      { name: "x", trigger: { type: "task_deleted" }, actions: [{ type: "comment", text: "x" }] },
      { name: "x", trigger: { type: "task_created" }, actions: [{ type: "start_job", kind: "deploy" }] },
      { name: "x", trigger: { type: "task_created" }, actions: [{ type: "comment", text: "   " }] },
      {
        name: "x",
        trigger: { type: "task_created" },
        actions: Array.from({ length: 11 }, () => ({ type: "comment", text: "x" })),
      },
      { name: "x".repeat(101), trigger: { type: "task_created" }, actions: [{ type: "comment", text: "x" }] },
      {
        name: "x",
        trigger: { type: "task_created" },
        conditions: { colour: "red" },
        actions: [{ type: "comment", text: "x" }],
      },
    ]) {
      expect(errorOf(await post(body)), JSON.stringify(body).slice(0, 80)).toEqual([
        400,
        "validation_failed",
      ]);
    }
    expect(errorOf(await board.owner.client.get(`${rules}/${foreignRule}`))).toEqual([404, "rule_not_found"]);
    expect(errorOf(await board.owner.client.patch(`${rules}/${foreignRule}`, { enabled: false }))).toEqual([
      404,
      "rule_not_found",
    ]);
    expect(
      (await other.owner.client.get(`${other.base}/automation/rules/${foreignRule}`)).json().enabled,
    ).toBe(true);
  });

  it("is an admin's: developers and reviewers read rules but cannot change them", async () => {
    const board = await newBoard(kiln);
    const [rule] = (await board.owner.client.get(`${board.base}/automation/rules`)).json();
    for (const role of ["developer", "reviewer", "viewer"] as const) {
      const member = await join(kiln, board, role);
      expect((await member.client.get(`${board.base}/automation/rules/${rule.id}`)).statusCode).toBe(200);
      expect(
        errorOf(await member.client.patch(`${board.base}/automation/rules/${rule.id}`, { enabled: false })),
      ).toEqual([403, "forbidden"]);
      expect(errorOf(await member.client.delete(`${board.base}/automation/rules/${rule.id}`))).toEqual([
        403,
        "forbidden",
      ]);
    }
    const admin = await join(kiln, board, "admin");
    expect(
      (await admin.client.patch(`${board.base}/automation/rules/${rule.id}`, { enabled: false })).statusCode,
    ).toBe(200);
  });
});
