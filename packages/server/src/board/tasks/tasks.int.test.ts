import { MAX_TASK_DESCRIPTION_CHARS, MAX_TASK_TITLE_CHARS, type Task } from "@kiln/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  activityOf,
  type Board,
  createTask,
  errorOf,
  join,
  move,
  moved,
  newBoard,
  newOrg,
  statusIds,
} from "../../testing/board.ts";
import { startTestKiln, type TestKiln } from "../../testing/harness.ts";

let kiln: TestKiln;
let board: Board;
let status: Record<string, string>;

beforeAll(async () => {
  kiln = await startTestKiln();
  board = await newBoard(kiln);
  status = await statusIds(board);
}, 120_000);
afterAll(() => kiln?.stop());

async function column(b: Board, statusId: string): Promise<Task[]> {
  const res = await b.owner.client.get(`${b.base}/tasks?status=${statusId}`);
  expect(res.statusCode).toBe(200);
  return res.json();
}

const titles = (tasks: Task[]) => tasks.map((t) => t.title);

describe("tasks", () => {
  it("are created with a per-project number in the first status, and read back", async () => {
    const b = await newBoard(kiln);
    const first = await createTask(b, { title: "First" });
    const second = await createTask(b, {
      title: "  Second  ",
      description: "# Markdown\n\n- [ ] item",
      priority: "high",
      labels: ["ui", "bug", "ui"],
    });
    expect([first.number, second.number]).toEqual([1, 2]);
    const s = await statusIds(b);
    expect(first.statusId).toBe(s.Backlog);
    expect(second).toMatchObject({
      title: "Second",
      description: "# Markdown\n\n- [ ] item",
      priority: "high",
      labels: ["ui", "bug"],
      assignee: null,
      parentId: null,
      createdBy: b.owner.user.id,
    });
    expect(first.position < second.position).toBe(true);
    const got = await b.owner.client.get(`${b.base}/tasks/${second.id}`);
    expect(got.json()).toEqual(second);
  });

  it("created and dragged at the same time get distinct numbers and positions", async () => {
    const b = await newBoard(kiln);
    const s = await statusIds(b);
    const made = await Promise.all(
      Array.from({ length: 8 }, (_, i) => createTask(b, { title: `Race ${i}`, statusId: s["To do"] })),
    );
    expect(made.map((t) => t.number).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Everyone drops a task on top of the column at once: each lands above the previous top.
    await Promise.all(made.slice(0, 4).map((t) => moved(b, t.id, { statusId: s["To do"]!, afterId: null })));
    const positions = (await column(b, s["To do"]!)).map((t) => t.position);
    expect(new Set(positions).size).toBe(8);
    expect([...positions].sort()).toEqual(positions);
  });

  it("are edited field by field, each change in the activity log with from and to", async () => {
    const task = await createTask(board, { title: "Edit me", labels: ["a"] });
    const res = await board.owner.client.patch(`${board.base}/tasks/${task.id}`, {
      title: "Edited",
      priority: "urgent",
      labels: ["a", "b"],
      description: "new text",
      assignee: { type: "member", userId: board.owner.user.id },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      title: "Edited",
      priority: "urgent",
      labels: ["a", "b"],
      description: "new text",
      assignee: { type: "member", userId: board.owner.user.id },
    });
    const log = await activityOf(board, task.id);
    const actor = { type: "member", userId: board.owner.user.id };
    expect(log.map((e) => e.kind)).toEqual([
      "created",
      "title_changed",
      "description_changed",
      "priority_changed",
      "assignee_changed",
      "labels_changed",
    ]);
    expect(log.every((e) => JSON.stringify(e.actor) === JSON.stringify(actor))).toBe(true);
    expect(log[1]).toMatchObject({ from: "Edit me", to: "Edited" });
    expect(log[3]).toMatchObject({ from: "none", to: "urgent" });
    expect(log[4]).toMatchObject({ from: null, to: { type: "member", userId: board.owner.user.id } });
    expect(log[5]).toMatchObject({ from: ["a"], to: ["a", "b"] });
    // The same values again change nothing and log nothing.
    const again = await board.owner.client.patch(`${board.base}/tasks/${task.id}`, { title: "Edited" });
    expect(again.statusCode).toBe(200);
    expect((await activityOf(board, task.id)).length).toBe(log.length);
    // Paging through the log.
    const page = await board.owner.client.get(
      `${board.base}/tasks/${task.id}/activity?after=${log[2]!.id}&limit=2`,
    );
    expect(page.json().map((e: { kind: string }) => e.kind)).toEqual([
      "priority_changed",
      "assignee_changed",
    ]);
  });

  it("are deleted; their subtasks stay, unlinked, and say why", async () => {
    const parent = await createTask(board, { title: "Parent" });
    const child = await createTask(board, { title: "Child", parentId: parent.id });
    expect(child.parentId).toBe(parent.id);
    const deleted = await board.owner.client.delete(`${board.base}/tasks/${parent.id}`);
    expect(deleted.statusCode).toBe(204);
    expect(errorOf(await board.owner.client.get(`${board.base}/tasks/${parent.id}`))).toEqual([
      404,
      "task_not_found",
    ]);
    const after = (await board.owner.client.get(`${board.base}/tasks/${child.id}`)).json();
    expect(after.parentId).toBeNull();
    expect((await activityOf(board, child.id)).at(-1)).toMatchObject({
      kind: "parent_changed",
      from: parent.id,
      to: null,
    });
  });
});

describe("the task list", () => {
  let b: Board;
  let s: Record<string, string>;
  let memberId: string;
  const made: Record<string, Task> = {};

  beforeAll(async () => {
    b = await newBoard(kiln);
    s = await statusIds(b);
    memberId = (await join(kiln, b, "developer")).user.id;
    made.login = await createTask(b, { title: "Login page", labels: ["ui"], assignee: { type: "agent" } });
    made.api = await createTask(b, {
      title: "Sessions API",
      description: "Store the 100% refresh_token",
      labels: ["api", "ui"],
      assignee: { type: "member", userId: b.owner.user.id },
    });
    made.docs = await createTask(b, {
      title: "Docs",
      statusId: s["To do"],
      assignee: { type: "member", userId: memberId },
    });
    made.sub = await createTask(b, { title: "Sub of login", parentId: made.login!.id });
  });

  const list = async (query: string) => {
    const res = await b.owner.client.get(`${b.base}/tasks${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return titles(res.json());
  };

  it("is in board order and filters by status, assignee, label, text, number and parent", async () => {
    expect(await list("")).toEqual(["Login page", "Sessions API", "Sub of login", "Docs"]);
    expect(await list(`?status=${s["To do"]}`)).toEqual(["Docs"]);
    expect(await list("?assignee=agent")).toEqual(["Login page"]);
    expect(await list("?assignee=me")).toEqual(["Sessions API"]);
    expect(await list(`?assignee=${memberId}`)).toEqual(["Docs"]);
    expect(await list("?assignee=none")).toEqual(["Sub of login"]);
    expect(await list("?label=ui")).toEqual(["Login page", "Sessions API"]);
    expect(await list("?label=api")).toEqual(["Sessions API"]);
    expect(await list("?q=LOGIN")).toEqual(["Login page", "Sub of login"]);
    expect(await list(`?q=${encodeURIComponent("100%")}`)).toEqual(["Sessions API"]);
    expect(await list(`?q=${encodeURIComponent("_")}`)).toEqual(["Sessions API"]);
    expect(await list(`?q=${encodeURIComponent("#3")}`)).toEqual(["Docs"]);
    expect(await list(`?parentId=${made.login!.id}`)).toEqual(["Sub of login"]);
    expect(await list("?limit=2")).toEqual(["Login page", "Sessions API"]);
    expect(await list(`?status=${s["To do"]}&label=ui`)).toEqual([]);
  });

  it("refuses malformed filters", async () => {
    for (const query of ["?status=nope", "?assignee=someone", "?limit=0", "?limit=5000", "?colour=red"]) {
      expect(errorOf(await b.owner.client.get(`${b.base}/tasks${query}`)), query).toEqual([
        400,
        "validation_failed",
      ]);
    }
  });
});

describe("positions", () => {
  it("drags rewrite one task's row, and the column comes out in the dropped order", async () => {
    const b = await newBoard(kiln);
    const s = await statusIds(b);
    const [a, bb, c] = [
      await createTask(b, { title: "A", statusId: s["To do"] }),
      await createTask(b, { title: "B", statusId: s["To do"] }),
      await createTask(b, { title: "C", statusId: s["To do"] }),
    ];
    const todo = s["To do"]!;
    expect(titles(await column(b, todo))).toEqual(["A", "B", "C"]);

    const positions = async () =>
      Object.fromEntries((await column(b, todo)).map((t) => [t.title, t.position]));
    let before = await positions();
    await moved(b, c!.id, { statusId: todo, afterId: null });
    expect(titles(await column(b, todo))).toEqual(["C", "A", "B"]);
    let after = await positions();
    expect([after.A, after.B]).toEqual([before.A, before.B]);

    before = after;
    await moved(b, a!.id, { statusId: todo, afterId: bb!.id });
    expect(titles(await column(b, todo))).toEqual(["C", "B", "A"]);
    after = await positions();
    expect([after.B, after.C]).toEqual([before.B, before.C]);

    await moved(b, bb!.id, { statusId: todo, beforeId: c!.id });
    expect(titles(await column(b, todo))).toEqual(["B", "C", "A"]);
    await moved(b, a!.id, { statusId: todo, afterId: bb!.id, beforeId: c!.id });
    expect(titles(await column(b, todo))).toEqual(["B", "A", "C"]);

    // Many drops into the same gap still order correctly.
    for (let i = 0; i < 30; i++) {
      const col = await column(b, todo);
      await moved(b, col[2]!.id, { statusId: todo, afterId: col[0]!.id, beforeId: col[1]!.id });
    }
    expect((await column(b, todo)).length).toBe(3);

    // Into another column, between two of its tasks; with no anchor, to its bottom.
    const d = await createTask(b, { title: "D", statusId: s["In progress"] });
    await createTask(b, { title: "E", statusId: s["In progress"] });
    const first = (await column(b, todo))[0]!;
    await moved(b, first.id, { statusId: s["In progress"], afterId: d.id });
    expect(titles(await column(b, s["In progress"]!))).toEqual(["D", first.title, "E"]);
    const next = (await column(b, todo))[0]!;
    await moved(b, next.id, { statusId: s["In progress"] });
    expect(titles(await column(b, s["In progress"]!))).toEqual(["D", first.title, "E", next.title]);
    const log = await activityOf(b, next.id);
    expect(log.filter((x) => x.kind === "moved").at(-1)).toMatchObject({
      from: { id: todo, name: "To do" },
      to: { id: s["In progress"], name: "In progress" },
    });
    expect(log.some((x) => x.kind === "reordered")).toBe(true);
  });

  it("refuses anchors that are not in the target column, the task itself, or out of order", async () => {
    const b = await newBoard(kiln);
    const s = await statusIds(b);
    const x = await createTask(b, { title: "X", statusId: s["To do"] });
    const y = await createTask(b, { title: "Y", statusId: s["To do"] });
    const z = await createTask(b, { title: "Z", statusId: s.Backlog });
    const other = await createTask(await newBoard(kiln), { title: "Elsewhere" });
    for (const body of [
      { statusId: s["To do"], afterId: z.id },
      { statusId: s["To do"], afterId: x.id },
      { statusId: s["To do"], beforeId: other.id },
      { statusId: s["To do"], afterId: y.id, beforeId: x.id },
    ]) {
      expect(errorOf(await move(b, x.id, body)), JSON.stringify(body)).toEqual([400, "task_anchor_invalid"]);
    }
  });
});

describe("transitions", () => {
  it("a move the workflow does not allow is a 409 naming the allowed targets; an allowed one goes through", async () => {
    const task = await createTask(board, { title: "Transition" });
    const refused = await move(board, task.id, { statusId: status.Done });
    expect(errorOf(refused)).toEqual([409, "transition_not_allowed"]);
    const details = refused.json().error.details;
    expect(details.from).toEqual({ id: status.Backlog, name: "Backlog" });
    expect(details.to).toEqual({ id: status.Done, name: "Done" });
    expect(details.allowed.map((a: { name: string }) => a.name)).toEqual([
      "To do",
      "In progress",
      "Cancelled",
    ]);
    expect((await board.owner.client.get(`${board.base}/tasks/${task.id}`)).json().statusId).toBe(
      status.Backlog,
    );

    for (const name of ["To do", "In progress", "Review", "Done"]) {
      expect((await moved(board, task.id, { statusId: status[name] })).statusId).toBe(status[name]);
    }
    expect(errorOf(await move(board, task.id, { statusId: status.Review }))).toEqual([
      409,
      "transition_not_allowed",
    ]);
  });
});

describe("comments", () => {
  it("are written, listed, edited by their author and deleted by the author or an admin", async () => {
    const task = await createTask(board, { title: "Discuss" });
    const url = `${board.base}/tasks/${task.id}/comments`;
    const reviewer = await join(kiln, board, "reviewer");
    const posted = await board.owner.client.post(url, { body: "**Looks** good" });
    expect(posted.statusCode).toBe(201);
    const mine = posted.json();
    expect(mine).toMatchObject({
      taskId: task.id,
      author: { type: "member", userId: board.owner.user.id },
      body: "**Looks** good",
      editedAt: null,
    });
    const theirs = await reviewer.client.post(url, { body: "Please rename the button" });
    expect(theirs.statusCode).toBe(201);

    const edited = await board.owner.client.patch(`${url}/${mine.id}`, { body: "Looks good to me" });
    expect(edited.statusCode).toBe(200);
    expect(edited.json().editedAt).not.toBeNull();
    expect(errorOf(await board.owner.client.patch(`${url}/${theirs.json().id}`, { body: "forged" }))).toEqual(
      [403, "forbidden"],
    );
    expect(errorOf(await reviewer.client.delete(`${url}/${mine.id}`))).toEqual([403, "forbidden"]);

    const list = (await board.owner.client.get(url)).json();
    expect(list.map((c: { body: string }) => c.body)).toEqual([
      "Looks good to me",
      "Please rename the button",
    ]);

    expect((await reviewer.client.delete(`${url}/${theirs.json().id}`)).statusCode).toBe(204);
    expect((await board.owner.client.delete(`${url}/${mine.id}`)).statusCode).toBe(204);
    expect((await board.owner.client.get(url)).json()).toEqual([]);
    expect(errorOf(await board.owner.client.delete(`${url}/${mine.id}`))).toEqual([404, "comment_not_found"]);

    const kinds = (await activityOf(board, task.id)).map((e) => e.kind);
    expect(kinds).toEqual([
      "created",
      "commented",
      "commented",
      "comment_edited",
      "comment_deleted",
      "comment_deleted",
    ]);
  });

  it("an admin deletes anyone's comment", async () => {
    const task = await createTask(board, { title: "Moderated" });
    const url = `${board.base}/tasks/${task.id}/comments`;
    const dev = await join(kiln, board, "developer");
    const admin = await join(kiln, board, "admin");
    const posted = (await dev.client.post(url, { body: "spam" })).json();
    expect(
      errorOf(await join(kiln, board, "developer").then((d) => d.client.delete(`${url}/${posted.id}`))),
    ).toEqual([403, "forbidden"]);
    expect((await admin.client.delete(`${url}/${posted.id}`)).statusCode).toBe(204);
  });
});

describe("roles", () => {
  it("a viewer reads; a reviewer reads and comments; a developer changes tasks but not the workflow or rules", async () => {
    const task = await createTask(board, { title: "Roles" });
    const url = `${board.base}/tasks/${task.id}`;
    const viewer = await join(kiln, board, "viewer");
    const reviewer = await join(kiln, board, "reviewer");
    const developer = await join(kiln, board, "developer");
    for (const who of [viewer, reviewer]) {
      expect((await who.client.get(`${board.base}/tasks`)).statusCode).toBe(200);
      expect((await who.client.get(url)).statusCode).toBe(200);
      expect((await who.client.get(`${url}/activity`)).statusCode).toBe(200);
      expect((await who.client.get(`${board.base}/workflow`)).statusCode).toBe(200);
      expect((await who.client.get(`${board.base}/automation/rules`)).statusCode).toBe(200);
      for (const res of [
        await who.client.post(`${board.base}/tasks`, { title: "nope" }),
        await who.client.patch(url, { title: "nope" }),
        await who.client.post(`${url}/move`, { statusId: status["To do"] }),
        await who.client.delete(url),
      ]) {
        expect(errorOf(res)).toEqual([403, "forbidden"]);
      }
    }
    expect(errorOf(await viewer.client.post(`${url}/comments`, { body: "hi" }))).toEqual([403, "forbidden"]);
    expect((await reviewer.client.post(`${url}/comments`, { body: "hi" })).statusCode).toBe(201);

    const made = await createTask(board, { title: "By a developer" }, developer.client);
    expect(made.createdBy).toBe(developer.user.id);
    expect(
      (await developer.client.post(`${board.base}/tasks/${made.id}/move`, { statusId: status["To do"] }))
        .statusCode,
    ).toBe(200);
    expect(
      (await developer.client.patch(`${board.base}/tasks/${made.id}`, { priority: "low" })).statusCode,
    ).toBe(200);
    for (const res of [
      await developer.client.put(`${board.base}/workflow/template`, { template: "simple-kanban" }),
      await developer.client.post(`${board.base}/workflow/statuses`, { name: "QA", group: "review" }),
      await developer.client.post(`${board.base}/automation/rules`, {
        name: "x",
        trigger: { type: "task_created" },
        actions: [{ type: "comment", text: "hi" }],
      }),
    ]) {
      expect(errorOf(res)).toEqual([403, "forbidden"]);
    }
    expect((await developer.client.delete(`${board.base}/tasks/${made.id}`)).statusCode).toBe(204);
  });
});

describe("hostile input", () => {
  it("refuses oversized and malformed fields", async () => {
    const url = `${board.base}/tasks`;
    for (const body of [
      { title: "x".repeat(MAX_TASK_TITLE_CHARS + 1) },
      { title: "" },
      { title: "   " },
      { title: "two\nlines" },
      { title: "nul\u0000" },
      { title: "lone \ud800 surrogate" },
      { title: "ok", description: "x".repeat(MAX_TASK_DESCRIPTION_CHARS + 1) },
      { title: "ok", description: "bad \udc00" },
      { title: "ok", labels: Array.from({ length: 21 }, (_, i) => `l${i}`) },
      { title: "ok", labels: ["a,b"] },
      { title: "ok", labels: ["x".repeat(51)] },
      { title: "ok", priority: "critical" },
      { title: "ok", assignee: { type: "robot" } },
      { title: "ok", assignee: { type: "member" } },
      { title: "ok", statusId: "not-an-id" },
      { title: "ok", number: 7 },
    ]) {
      const res = await board.owner.client.post(url, body);
      expect(errorOf(res), JSON.stringify(body).slice(0, 80)).toEqual([400, "validation_failed"]);
    }
  });

  it("refuses ids from another project or org", async () => {
    const otherOrg = await newOrg(kiln, board.owner);
    const foreign = await newBoard(kiln, otherOrg);
    const foreignTask = await createTask(foreign, { title: "Foreign" });
    const foreignStatus = (await statusIds(foreign))["To do"];
    const sameOrgOther = await newBoard(kiln, { slug: board.org, id: board.orgId, owner: board.owner });
    const siblingTask = await createTask(sameOrgOther, { title: "Sibling" });
    const stranger = await kiln.signup();

    const mine = await createTask(board, { title: "Mine" });
    const cases: Array<[Promise<import("fastify").LightMyRequestResponse>, [number, string]]> = [
      [board.owner.client.get(`${board.base}/tasks/${foreignTask.id}`), [404, "task_not_found"]],
      [board.owner.client.get(`${board.base}/tasks/${siblingTask.id}`), [404, "task_not_found"]],
      [
        board.owner.client.patch(`${board.base}/tasks/${siblingTask.id}`, { title: "x" }),
        [404, "task_not_found"],
      ],
      [
        board.owner.client.post(`${board.base}/tasks`, { title: "x", statusId: foreignStatus }),
        [400, "status_not_found"],
      ],
      [move(board, mine.id, { statusId: foreignStatus! }), [400, "status_not_found"]],
      [
        board.owner.client.post(`${board.base}/tasks`, { title: "x", parentId: siblingTask.id }),
        [400, "task_parent_invalid"],
      ],
      [
        board.owner.client.patch(`${board.base}/tasks/${mine.id}`, { parentId: foreignTask.id }),
        [400, "task_parent_invalid"],
      ],
      [
        board.owner.client.post(`${board.base}/tasks`, {
          title: "x",
          assignee: { type: "member", userId: stranger.user.id },
        }),
        [400, "assignee_not_member"],
      ],
      [
        board.owner.client.post(`${board.base}/tasks/${siblingTask.id}/comments`, { body: "x" }),
        [404, "task_not_found"],
      ],
    ];
    for (const [res, expected] of cases) expect(errorOf(await res)).toEqual(expected);
    expect((await foreign.owner.client.get(`${foreign.base}/tasks/${foreignTask.id}`)).json().title).toBe(
      "Foreign",
    );
    expect(
      (await sameOrgOther.owner.client.get(`${sameOrgOther.base}/tasks/${siblingTask.id}`)).json().title,
    ).toBe("Sibling");
  });

  it("refuses parent links that would form a loop", async () => {
    const a = await createTask(board, { title: "Loop A" });
    const b = await createTask(board, { title: "Loop B", parentId: a.id });
    const c = await createTask(board, { title: "Loop C", parentId: b.id });
    const patch = (id: string, parentId: string | null) =>
      board.owner.client.patch(`${board.base}/tasks/${id}`, { parentId });
    expect(errorOf(await patch(a.id, a.id))).toEqual([400, "task_parent_invalid"]);
    expect(errorOf(await patch(a.id, c.id))).toEqual([400, "task_parent_invalid"]);
    expect(errorOf(await patch(b.id, c.id))).toEqual([400, "task_parent_invalid"]);
    // Re-parenting within the tree is fine, and unlinking too.
    expect((await patch(c.id, a.id)).json().parentId).toBe(a.id);
    expect((await patch(b.id, c.id)).json().parentId).toBe(c.id);
    expect((await patch(b.id, null)).json().parentId).toBeNull();
  });

  it("answers garbage in task and comment ids with a 404", async () => {
    for (const id of ["not-a-uuid", "00000000-0000-4000-8000-000000000000"]) {
      expect(errorOf(await board.owner.client.get(`${board.base}/tasks/${id}`))[0]).toBeGreaterThanOrEqual(
        400,
      );
    }
    const task = await createTask(board, { title: "Ids" });
    expect(
      errorOf(
        await board.owner.client.delete(
          `${board.base}/tasks/${task.id}/comments/00000000-0000-4000-8000-000000000000`,
        ),
      ),
    ).toEqual([404, "comment_not_found"]);
  });
});
