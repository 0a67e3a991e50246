import type { Workflow } from "@kiln/protocol";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTask, errorOf, move, moved, newBoard, statusIds, workflowOf } from "../../testing/board.ts";
import { startTestKiln, type TestKiln } from "../../testing/harness.ts";

let kiln: TestKiln;

beforeAll(async () => {
  kiln = await startTestKiln();
}, 120_000);
afterAll(() => kiln?.stop());

const names = (w: Workflow) => w.statuses.map((s) => s.name);
const json = (res: LightMyRequestResponse): Workflow => {
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json();
};

describe("a project's workflow", () => {
  it("is the software-development template at first use, with its transitions", async () => {
    const board = await newBoard(kiln);
    const workflow = await workflowOf(board);
    expect(workflow.template).toBe("software-development");
    expect(names(workflow)).toEqual(["Backlog", "To do", "In progress", "Review", "Done", "Cancelled"]);
    expect(workflow.statuses.map((s) => s.group)).toEqual([
      "backlog",
      "unstarted",
      "started",
      "review",
      "completed",
      "cancelled",
    ]);
    expect(workflow.statuses.map((s) => s.position)).toEqual([0, 1, 2, 3, 4, 5]);
    const byId = new Map(workflow.statuses.map((s) => [s.id, s.name]));
    const to = (name: string) =>
      workflow.statuses.find((s) => s.name === name)!.transitions.map((id) => byId.get(id));
    expect(to("Backlog")).toEqual(["To do", "In progress", "Cancelled"]);
    expect(to("In progress")).toEqual(["Backlog", "To do", "Review", "Cancelled"]);
    expect(to("Review")).toEqual(["In progress", "Done", "Cancelled"]);
    // Asking again changes nothing.
    expect(await workflowOf(board)).toEqual(workflow);
  });

  it("made by two first uses at once is made once", async () => {
    const board = await newBoard(kiln);
    const [a, b] = await Promise.all([workflowOf(board), workflowOf(board)]);
    expect(a.statuses.map((s) => s.id)).toEqual(b.statuses.map((s) => s.id));
    const rules = (await board.owner.client.get(`${board.base}/automation/rules`)).json();
    expect(rules).toHaveLength(3);
  });

  it("can start over from the kanban template while it has no tasks; its rules for old statuses go", async () => {
    const board = await newBoard(kiln);
    await workflowOf(board);
    const mine = await board.owner.client.post(`${board.base}/automation/rules`, {
      name: "Greet",
      trigger: { type: "task_created" },
      actions: [{ type: "comment", text: "Hello" }],
    });
    expect(mine.statusCode).toBe(201);
    const kanban = json(
      await board.owner.client.put(`${board.base}/workflow/template`, { template: "simple-kanban" }),
    );
    expect(kanban.template).toBe("simple-kanban");
    expect(names(kanban)).toEqual(["To do", "Doing", "Done"]);
    for (const s of kanban.statuses) expect(s.transitions).toHaveLength(2);
    const rules = (await board.owner.client.get(`${board.base}/automation/rules`)).json();
    expect(rules.map((r: { name: string }) => r.name)).toEqual(["Greet"]);

    // Kanban allows any move.
    const task = await createTask(board, { title: "Anywhere" });
    expect((await moved(board, task.id, { statusId: kanban.statuses[2]!.id })).statusId).toBe(
      kanban.statuses[2]!.id,
    );
    const refused = await board.owner.client.put(`${board.base}/workflow/template`, {
      template: "software-development",
    });
    expect(errorOf(refused)).toEqual([409, "workflow_in_use"]);
    expect(refused.json().error.details).toEqual({ tasks: 1 });
  });

  it("picked before first use is made from that template", async () => {
    const board = await newBoard(kiln);
    const kanban = json(
      await board.owner.client.put(`${board.base}/workflow/template`, { template: "simple-kanban" }),
    );
    expect(names(kanban)).toEqual(["To do", "Doing", "Done"]);
    expect((await board.owner.client.get(`${board.base}/automation/rules`)).json()).toEqual([]);
  });
});

describe("editing a workflow", () => {
  it("adds, renames, recolours, reorders and rewires statuses; moves follow the new rules", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const url = `${board.base}/workflow/statuses`;
    const added = await board.owner.client.post(url, {
      name: "QA",
      group: "review",
      color: "cyan",
      position: 4,
    });
    expect(added.statusCode).toBe(201);
    let workflow: Workflow = added.json();
    expect(names(workflow)).toEqual(["Backlog", "To do", "In progress", "Review", "QA", "Done", "Cancelled"]);
    const qa = workflow.statuses.find((x) => x.name === "QA")!;
    expect(qa).toMatchObject({ group: "review", color: "cyan", position: 4 });
    // By default every status reaches the new one and it reaches every status.
    expect(qa.transitions).toHaveLength(6);
    expect(workflow.statuses.filter((x) => x.transitions.includes(qa.id))).toHaveLength(6);

    workflow = json(await board.owner.client.patch(`${url}/${qa.id}`, { name: "Quality", color: "orange" }));
    expect(workflow.statuses[4]).toMatchObject({ name: "Quality", color: "orange", group: "review" });

    // Rewire: from Quality only to Done.
    workflow = json(await board.owner.client.patch(`${url}/${qa.id}`, { transitions: [s.Done, qa.id] }));
    expect(workflow.statuses[4]!.transitions).toEqual([s.Done]);
    const task = await createTask(board, { title: "QA me", statusId: qa.id });
    const refused = await move(board, task.id, { statusId: s.Backlog });
    expect(errorOf(refused)).toEqual([409, "transition_not_allowed"]);
    expect(refused.json().error.details.allowed).toEqual([{ id: s.Done, name: "Done" }]);
    await moved(board, task.id, { statusId: s.Done });

    // Close Done off entirely.
    workflow = json(await board.owner.client.patch(`${url}/${s.Done}`, { transitions: [] }));
    expect(errorOf(await move(board, task.id, { statusId: s["To do"] }))).toEqual([
      409,
      "transition_not_allowed",
    ]);

    const order = [...workflow.statuses.map((x) => x.id)].reverse();
    workflow = json(await board.owner.client.put(`${board.base}/workflow/order`, { statusIds: order }));
    expect(names(workflow)).toEqual([
      "Cancelled",
      "Done",
      "Quality",
      "Review",
      "In progress",
      "To do",
      "Backlog",
    ]);
    // The task list follows the column order.
    const list = (await board.owner.client.get(`${board.base}/tasks`)).json();
    expect(list.map((t: { title: string }) => t.title)).toEqual(["QA me"]);
  });

  it("refuses duplicate names, bad orders, unknown statuses and a status that holds tasks or is named by a rule", async () => {
    const board = await newBoard(kiln);
    const s = await statusIds(board);
    const url = `${board.base}/workflow/statuses`;
    expect(errorOf(await board.owner.client.post(url, { name: "review", group: "review" }))).toEqual([
      409,
      "status_name_taken",
    ]);
    expect(errorOf(await board.owner.client.patch(`${url}/${s.Done}`, { name: "BACKLOG" }))).toEqual([
      409,
      "status_name_taken",
    ]);
    const order = `${board.base}/workflow/order`;
    for (const statusIds of [
      [s.Done],
      [...Object.values(s), s.Done],
      [...Object.values(s).slice(1), crypto.randomUUID()],
    ]) {
      expect(errorOf(await board.owner.client.put(order, { statusIds }))).toEqual([400, "validation_failed"]);
    }
    const other = await newBoard(kiln);
    const foreign = (await statusIds(other))["To do"]!;
    expect(errorOf(await board.owner.client.patch(`${url}/${foreign}`, { name: "Mine now" }))).toEqual([
      404,
      "status_not_found",
    ]);
    expect(errorOf(await board.owner.client.delete(`${url}/${foreign}`))).toEqual([404, "status_not_found"]);
    expect(errorOf(await board.owner.client.patch(`${url}/${s.Done}`, { transitions: [foreign] }))).toEqual([
      400,
      "status_not_found",
    ]);
    expect(
      errorOf(await board.owner.client.post(url, { name: "X", group: "started", reachableFrom: [foreign] })),
    ).toEqual([400, "status_not_found"]);
    expect(errorOf(await board.owner.client.post(url, { name: "Y", group: "nowhere" }))).toEqual([
      400,
      "validation_failed",
    ]);

    await createTask(board, { title: "Holds To do", statusId: s["To do"] });
    const held = await board.owner.client.delete(`${url}/${s["To do"]}`);
    expect(errorOf(held)).toEqual([409, "status_in_use"]);
    expect(held.json().error.details).toMatchObject({ tasks: 1 });

    // Review is named by the template's review rule.
    const named = await board.owner.client.delete(`${url}/${s.Review}`);
    expect(errorOf(named)).toEqual([409, "status_in_use"]);
    expect(named.json().error.details.ruleIds).toHaveLength(1);

    // Cancelled is free: it goes, with every transition to and from it.
    const workflow = json(await board.owner.client.delete(`${url}/${s.Cancelled}`));
    expect(names(workflow)).toEqual(["Backlog", "To do", "In progress", "Review", "Done"]);
    expect(workflow.statuses.flatMap((x) => x.transitions)).not.toContain(s.Cancelled);
    expect(workflow.statuses.map((x) => x.position)).toEqual([0, 1, 2, 3, 4]);
  });

  it("keeps at least one status", async () => {
    const board = await newBoard(kiln);
    let workflow = json(
      await board.owner.client.put(`${board.base}/workflow/template`, { template: "simple-kanban" }),
    );
    for (const status of workflow.statuses.slice(1)) {
      workflow = json(await board.owner.client.delete(`${board.base}/workflow/statuses/${status.id}`));
    }
    const last = await board.owner.client.delete(
      `${board.base}/workflow/statuses/${workflow.statuses[0]!.id}`,
    );
    expect(errorOf(last)).toEqual([409, "status_in_use"]);
  });
});
