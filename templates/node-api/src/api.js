import { randomUUID } from "node:crypto";
import { readJson, sendError, sendJson } from "./http.js";

/** In-memory data: it resets whenever the server restarts (every file save). Use a file or DB to keep it. */
const todos = [
  { id: randomUUID(), title: "Edit src/api.js to add your own endpoints", done: false },
  { id: randomUUID(), title: "Change public/index.html to build the page", done: false },
];

/** Routes under /api/. Each returns JSON; errors use { error: { code, message } }. */
export async function handleApi(req, res, url) {
  const route = `${req.method} ${url.pathname}`;

  // Kiln asks this once a published copy starts: 200 means it is up.
  if (route === "GET /api/health") return sendJson(res, 200, { ok: true });

  if (route === "GET /api/hello") {
    const name = url.searchParams.get("name") || "world";
    return sendJson(res, 200, { message: `Hello, ${name}!`, time: new Date().toISOString() });
  }

  if (route === "GET /api/todos") return sendJson(res, 200, todos);

  if (route === "POST /api/todos") {
    const body = await readJson(req, res);
    if (body === undefined) return;
    const title = typeof body?.title === "string" ? body.title.trim() : "";
    if (!title || title.length > 200) {
      return sendError(res, 400, "validation_failed", "title must be 1–200 characters");
    }
    const todo = { id: randomUUID(), title, done: false };
    todos.push(todo);
    return sendJson(res, 201, todo);
  }

  const match = url.pathname.match(/^\/api\/todos\/([0-9a-f-]{36})$/);
  if (match) {
    const index = todos.findIndex((t) => t.id === match[1]);
    if (index === -1) return sendError(res, 404, "not_found", "no such todo");
    if (req.method === "PATCH") {
      const body = await readJson(req, res);
      if (body === undefined) return;
      if (typeof body?.done === "boolean") todos[index].done = body.done;
      return sendJson(res, 200, todos[index]);
    }
    if (req.method === "DELETE") {
      todos.splice(index, 1);
      res.writeHead(204).end();
      return;
    }
  }

  return sendError(res, 404, "not_found", `no route ${route}`);
}
