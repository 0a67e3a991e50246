/**
 * The program a warm git sandbox runs (`node -e DISPATCHER SOCKET`, inside the project's sandbox, as its
 * uid): it starts one process per request and connects that process's stdin and stdout to Kiln. Kiln's
 * orders arrive on its stdin and its reports leave on its stdout, one JSON object a line:
 *
 *   Kiln → sandbox  {"t":"run","id":ID,"argv":[…],"env":{…}}   start `argv` in /workspace
 *                   {"t":"kill","id":ID}                       SIGKILL that request's process group
 *   sandbox → Kiln  {"t":"ready"}                              listening for orders
 *                   {"t":"err","id":ID,"d":BASE64}             a piece of the request's stderr
 *                   {"t":"exit","id":ID,"code":N,"signal":S}   it exited (stderr is complete)
 *
 * For each run it connects to SOCKET (a unix socket only Kiln listens on, bind-mounted read-only from a
 * directory Kiln owns) and writes `ID\n`; after that line the connection is the process's stdin (Kiln's
 * half-close ends it) and its stdout (its end half-closes the connection). IDs are 32 random hex digits
 * Kiln chose; a connection naming an ID Kiln is not waiting for is dropped. Nothing here is trusted by
 * Kiln beyond what git in this sandbox could already say: Kiln parses it as hostile input.
 *
 * Plain CommonJS without dependencies: it is started with `-e`, from no file, and must not read the
 * workspace (its own cwd is `/`).
 */
export const DISPATCHER_JS = String.raw`
"use strict";
const net = require("node:net");
const { spawn } = require("node:child_process");
const readline = require("node:readline");
const socketPath = process.argv[1];
const running = new Map();
const send = (message) => process.stdout.write(JSON.stringify(message) + "\n");
process.stdout.on("error", () => process.exit(1));
process.stdin.on("end", () => process.exit(0));
const ID = /^[0-9a-f]{32}$/;
function run(order) {
  if (typeof order.id !== "string" || !ID.test(order.id) || running.has(order.id)) return;
  if (!Array.isArray(order.argv) || order.argv.length === 0) return;
  const id = order.id;
  const env = { ...process.env, ...order.env };
  const conn = net.connect({ path: socketPath, allowHalfOpen: true });
  conn.on("error", () => kill(id));
  conn.write(id + "\n");
  let child;
  try {
    child = spawn(order.argv[0], order.argv.slice(1), {
      cwd: "/workspace",
      env,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (error) {
    conn.destroy();
    send({ t: "exit", id, code: 127, signal: null });
    return;
  }
  running.set(id, { child, conn });
  child.on("error", () => {});
  child.stdin.on("error", () => {});
  child.stdout.on("error", () => {});
  conn.pipe(child.stdin);
  child.stdout.pipe(conn);
  child.stderr.on("data", (d) => send({ t: "err", id, d: d.toString("base64") }));
  child.on("close", (code, signal) => {
    running.delete(id);
    send({ t: "exit", id, code, signal });
  });
}
function kill(id) {
  const r = running.get(id);
  if (!r) return;
  try {
    process.kill(-r.child.pid, "SIGKILL");
  } catch {}
  try {
    r.child.kill("SIGKILL");
  } catch {}
}
readline.createInterface({ input: process.stdin, crlfDelay: Infinity }).on("line", (line) => {
  let order;
  try {
    order = JSON.parse(line);
  } catch {
    return;
  }
  if (order && order.t === "run") run(order);
  else if (order && order.t === "kill" && typeof order.id === "string") kill(order.id);
});
send({ t: "ready" });
`;
