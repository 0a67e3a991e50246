import { ACCESS_COOKIE, type Task } from "@kiln/protocol";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeBodyLimit } from "../files/service.ts";
import { type Board, join, newBoard, statusIds } from "../testing/board.ts";
import { listen } from "../testing/git.ts";
import { type SignedUp, startTestKiln, type TestKiln } from "../testing/harness.ts";

/** Kiln's MCP endpoint driven by the official SDK client, as Claude Code or Cursor would. */

let kiln: TestKiln;
let base: string;
let board: Board;
let ownerToken: string;
const BODY_LIMIT = 64 * 1024;

beforeAll(async () => {
  kiln = await startTestKiln({ env: { KILN_BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
  base = await listen(kiln);
  board = await newBoard(kiln);
  ownerToken = await tokenOf(board.owner);
}, 120_000);
afterAll(() => kiln?.stop());

async function tokenOf(who: SignedUp): Promise<string> {
  const res = await who.client.post("/api/auth/tokens", { name: "mcp" });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().token;
}

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: "kiln-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>) {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === "text" ? c.text : "")).join("");
  return { isError: result.isError === true, text, json: () => JSON.parse(text) };
}

/** The Kiln code a refused tool call carries. */
async function refusal(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = await call(client, name, args);
  expect(result.isError, result.text).toBe(true);
  return result.json().error.code;
}

async function ok(client: Client, name: string, args: Record<string, unknown>) {
  const result = await call(client, name, args);
  expect(result.isError, result.text).toBe(false);
  return result.json();
}

const at = (b: Board) => ({ org: b.org, project: b.project });

/** A raw POST to /mcp, as a client that is not the SDK might send it. */
function post(body: string, headers: Record<string, string> = {}) {
  return fetch(`${base}/mcp`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
    body,
  });
}

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
});

describe("the MCP endpoint", { timeout: 60_000 }, () => {
  it("lists Kiln's tools and resource templates to a personal API token", async () => {
    const client = await connect(ownerToken);
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name);
    for (const name of [
      "list_orgs",
      "list_projects",
      "get_workflow",
      "list_tasks",
      "create_task",
      "move_task",
      "read_file",
      "write_file",
      "list_chats",
      "send_chat_message",
      "list_deployments",
      "deploy_project",
    ]) {
      expect(names).toContain(name);
    }
    const create = tools.find((t) => t.name === "create_task")!;
    expect(create.inputSchema.required).toEqual(expect.arrayContaining(["org", "project", "title"]));
    expect(create.annotations?.readOnlyHint).toBe(false);
    expect(tools.find((t) => t.name === "list_tasks")!.annotations?.readOnlyHint).toBe(true);
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((r) => r.uriTemplate)).toEqual(
      expect.arrayContaining(["kiln://orgs/{org}/projects/{project}/board"]),
    );
    await client.close();
  });

  it("lists projects, reads the board and creates a task the REST API then shows", async () => {
    const client = await connect(ownerToken);
    const orgs = await ok(client, "list_orgs", {});
    expect(orgs.map((o: { slug: string }) => o.slug)).toContain(board.org);
    const projects = await ok(client, "list_projects", { org: board.org });
    expect(projects.map((p: { slug: string }) => p.slug)).toEqual([board.project]);

    const workflow = await ok(client, "get_workflow", at(board));
    const status = await statusIds(board);
    expect(workflow.statuses.map((s: { id: string }) => s.id)).toEqual(Object.values(status));
    expect(await ok(client, "list_tasks", at(board))).toEqual([]);

    const created: Task = await ok(client, "create_task", {
      ...at(board),
      title: "Made by an agent over MCP",
      priority: "high",
      labels: ["mcp"],
    });
    expect(created).toMatchObject({ number: 1, createdBy: board.owner.user.id, statusId: status.Backlog });
    const rest = await board.owner.client.get(`${board.base}/tasks/${created.id}`);
    expect(rest.statusCode).toBe(200);
    expect(rest.json()).toEqual(created);

    const moved: Task = await ok(client, "move_task", {
      ...at(board),
      taskId: created.id,
      statusId: status["To do"],
    });
    expect(moved.statusId).toBe(status["To do"]);
    const listed: Task[] = await ok(client, "list_tasks", { ...at(board), status: status["To do"] });
    expect(listed.map((t) => t.id)).toEqual([created.id]);

    const resource = await client.readResource({
      uri: `kiln://orgs/${board.org}/projects/${board.project}/board`,
    });
    const boardJson = JSON.parse(String((resource.contents[0] as { text: string }).text));
    expect(boardJson.map((t: Task) => t.title)).toEqual(["Made by an agent over MCP"]);
    await client.close();
  });

  it("reads and writes a project file, as the file API does", async () => {
    const client = await connect(ownerToken);
    const written = await ok(client, "write_file", {
      ...at(board),
      path: "notes/from-mcp.md",
      content: "# Hello from MCP\n",
      createParents: true,
    });
    expect(written).toMatchObject({ path: "notes/from-mcp.md", size: 17 });
    const read = await ok(client, "read_file", { ...at(board), path: "notes/from-mcp.md" });
    expect(read).toMatchObject({ content: "# Hello from MCP\n", encoding: "utf8", version: written.version });
    const rest = await board.owner.client.get(`${board.base}/files/content?path=notes/from-mcp.md`);
    expect(rest.json().content).toBe("# Hello from MCP\n");
    const tree = await ok(client, "list_files", { ...at(board), path: "notes" });
    expect(tree.entries.map((e: { path: string }) => e.path)).toEqual(["notes/from-mcp.md"]);
    // A stale version is refused like over REST.
    expect(
      await refusal(client, "write_file", {
        ...at(board),
        path: "notes/from-mcp.md",
        content: "lost update",
        expectedVersion: "0".repeat(64),
      }),
    ).toBe("file_changed");
    await client.close();
  });

  it("refuses path traversal in the file tools, and writes nothing outside the project", async () => {
    const client = await connect(ownerToken);
    for (const path of ["../escape.txt", "../../etc/passwd", "/etc/passwd", "a/../../escape.txt"]) {
      const code = await refusal(client, "write_file", {
        ...at(board),
        path,
        content: "pwned",
        createParents: true,
      });
      expect(["path_invalid", "path_outside_project"], `${path}: ${code}`).toContain(code);
      const readCode = await refusal(client, "read_file", { ...at(board), path });
      expect(["path_invalid", "path_outside_project"], `${path}: ${readCode}`).toContain(readCode);
    }
    expect(await refusal(client, "read_file", { ...at(board), path: ".git/config" })).toBe("path_reserved");
    await client.close();
  });

  it("lets a viewer read but refuses every write tool with its code, writing nothing", async () => {
    const viewer = await join(kiln, board, "viewer");
    const client = await connect(await tokenOf(viewer));
    const before = await board.owner.client.get(`${board.base}/tasks`);
    expect((await ok(client, "list_projects", { org: board.org })).length).toBe(1);
    expect(await ok(client, "list_tasks", at(board))).toEqual(before.json());
    const status = await statusIds(board);
    const taskId = before.json()[0].id;
    const writes: Array<[string, Record<string, unknown>]> = [
      ["create_task", { title: "viewer's task" }],
      ["update_task", { taskId, title: "renamed by a viewer" }],
      ["move_task", { taskId, statusId: status.Done }],
      ["write_file", { path: "viewer.txt", content: "no" }],
      ["create_chat", {}],
      ["deploy_project", {}],
    ];
    for (const [name, args] of writes) {
      expect(await refusal(client, name, { ...at(board), ...args }), name).toBe("forbidden");
    }
    const after = await board.owner.client.get(`${board.base}/tasks`);
    expect(after.json()).toEqual(before.json());
    const file = await board.owner.client.get(`${board.base}/files/content?path=viewer.txt`);
    expect(file.json().error.code).toBe("file_not_found");
    expect((await board.owner.client.get(`${board.base}/chats`)).json()).toEqual([]);
    await client.close();
  });

  it("does not show another org's project to an outsider's token, nor that it exists", async () => {
    const outsider = await kiln.signup();
    const client = await connect(await tokenOf(outsider));
    const orgs = await ok(client, "list_orgs", {});
    expect(orgs.map((o: { slug: string }) => o.slug)).not.toContain(board.org);
    const missing = await refusal(client, "list_projects", { org: "no-such-org-here" });
    expect(await refusal(client, "list_projects", { org: board.org })).toBe(missing);
    expect(await refusal(client, "list_tasks", at(board))).toBe(missing);
    expect(await refusal(client, "read_file", { ...at(board), path: "index.html" })).toBe(missing);
    expect(await refusal(client, "create_task", { ...at(board), title: "sneaky" })).toBe(missing);
    await expect(
      client.readResource({ uri: `kiln://orgs/${board.org}/projects/${board.project}/board` }),
    ).rejects.toThrow(missing);
    // Their own org's projects do not include it either.
    const own = await refusal(client, "get_project", {
      org: outsider.personalOrg.slug,
      project: board.project,
    });
    expect(own).toBe("project_not_found");
    await client.close();
  });

  it("answers 401 in the error envelope without a token or with a bad one, and ignores cookies", async () => {
    const refused: Array<Record<string, string>> = [
      {},
      { authorization: "Bearer garbage" },
      { authorization: "Bearer kiln_pat_notarealtoken" },
      { authorization: "Basic Zm9vOmJhcg==" },
    ];
    for (const headers of refused) {
      const res = await post(initialize, headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toMatch(/^(unauthenticated|token_invalid)$/);
    }
    // The browser's session cookie is not a credential here (no CSRF through an MCP endpoint).
    const cookie = board.owner.client.cookies.get(ACCESS_COOKIE)!;
    const res = await post(initialize, { cookie: `${ACCESS_COOKIE}=${cookie.value}` });
    expect(res.status).toBe(401);
    // A revoked token stops working.
    const token = await tokenOf(board.owner);
    const tokens = (await board.owner.client.get("/api/auth/tokens")).json();
    const id = tokens.find((t: { prefix: string }) => token.startsWith(t.prefix)).id;
    expect((await post(initialize, { authorization: `Bearer ${token}` })).status).toBe(200);
    await board.owner.client.delete(`/api/auth/tokens/${id}`);
    expect((await post(initialize, { authorization: `Bearer ${token}` })).status).toBe(401);
    await expect(connect("garbage")).rejects.toThrow();
  });

  it("answers garbage bodies, oversized bodies, wrong Accept and GET/DELETE in the error envelope", async () => {
    const auth = { authorization: `Bearer ${ownerToken}` };
    // The endpoint takes a body as large as a file write's (a file written through MCP), and no larger.
    const limit = Math.max(BODY_LIMIT, writeBodyLimit(kiln.services.files.limits));
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ["{not json", {}, 400, "invalid_json"],
      ['"just a string"', {}, 400, "validation_failed"],
      ['{"jsonrpc":"1.0","method":"x"}', {}, 400, "validation_failed"],
      ["[]", {}, 400, "validation_failed"],
      // No batches since MCP 2025-06-18.
      [`[${initialize}]`, {}, 400, "validation_failed"],
      [initialize, { accept: "text/html" }, 406, "not_acceptable"],
      [
        JSON.stringify({ jsonrpc: "2.0", id: 2, method: "x'); DROP TABLE users;--" }),
        {},
        400,
        "validation_failed",
      ],
      [JSON.stringify({ jsonrpc: "2.0", id: "a\u0000b", method: "ping" }), {}, 400, "validation_failed"],
      [JSON.stringify({ jsonrpc: "2.0", id: 3, method: "ping", extra: 1 }), {}, 400, "validation_failed"],
      [JSON.stringify({ jsonrpc: "2.0", id: 1, method: "x".repeat(limit) }), {}, 413, "payload_too_large"],
    ];
    for (const [body, headers, status, code] of cases) {
      const res = await post(body, { ...auth, ...headers });
      expect(res.status, body.slice(0, 40)).toBe(status);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    // A client that takes JSON but does not name the stream is answered all the same.
    const plain = await post(initialize, { ...auth, accept: "application/json" });
    expect(plain.status).toBe(200);
    expect(
      ((await plain.json()) as { result: { serverInfo: { name: string } } }).result.serverInfo.name,
    ).toBe("kiln");
    for (const method of ["GET", "DELETE"]) {
      const res = await fetch(`${base}/mcp`, { method, headers: { ...auth, accept: "text/event-stream" } });
      expect(res.status, method).toBe(405);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("method_not_allowed");
    }
  });

  it("answers garbage and oversized tool arguments with clear tool errors", async () => {
    const client = await connect(ownerToken);
    const [task] = (await board.owner.client.get(`${board.base}/tasks`)).json() as Task[];
    const garbage: Array<[string, Record<string, unknown>]> = [
      ["create_task", { ...at(board) }],
      ["create_task", { ...at(board), title: 42 }],
      ["create_task", { ...at(board), title: "x", priority: "urgent!!" }],
      ["create_task", { ...at(board), title: "x", extra: "field" }],
      ["create_task", { org: "../../etc", project: board.project, title: "x" }],
      ["create_task", { ...at(board), title: "x".repeat(10_000) }],
      ["create_task", { ...at(board), title: "nul\u0000byte" }],
      ["comment_on_task", { ...at(board), taskId: task!.id, body: "nul\u0000byte" }],
      ["create_task", { ...at(board), title: "x", description: "y".repeat(1_000_000) }],
      ["update_task", { ...at(board), taskId: "not-a-uuid", title: "x" }],
      ["list_tasks", { ...at(board), limit: -1 }],
      ["write_file", { ...at(board), path: "", content: "x" }],
      ["no_such_tool", {}],
    ];
    for (const [name, args] of garbage) {
      const result = await call(client, name, args);
      expect(result.isError, `${name} ${JSON.stringify(args).slice(0, 80)}`).toBe(true);
      expect(result.text.length).toBeGreaterThan(10);
      expect(result.text).not.toMatch(/internal error/i);
    }
    // A payload the tool's schema lets through but the route's rules refuse carries the Kiln code.
    expect(await refusal(client, "update_task", { ...at(board), taskId: crypto.randomUUID() })).toBe(
      "validation_failed",
    );
    expect(await refusal(client, "get_task", { ...at(board), taskId: crypto.randomUUID() })).toBe(
      "task_not_found",
    );
    // Nothing of it reached the board.
    const tasks = (await board.owner.client.get(`${board.base}/tasks`)).json();
    expect(tasks.map((t: Task) => t.title)).toEqual(["Made by an agent over MCP"]);
    expect((await board.owner.client.get(`${board.base}/tasks/${task!.id}/comments`)).json()).toEqual([]);
    await client.close();
  });
});
