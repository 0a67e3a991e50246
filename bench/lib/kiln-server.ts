/**
 * A real `kiln start` in its own process for a bench, with its JSON log followed (to wait for background
 * work such as a spare workspace's warm-up), and a signed-up user calling its API over HTTP.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stopProcess } from "./process.ts";

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../packages/server/src/cli.ts");

export interface KilnServer {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** How many log lines have been seen: a mark for `untilLog`. */
  logCount(): number;
  /**
   * Resolves with the first log line after `since` whose `msg` matches `re` (and has `fields`); throws
   * after `ms`.
   */
  untilLog(
    re: RegExp,
    since: number,
    ms: number,
    fields?: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/**
 * Starts `kiln start` on a free port with `env` (PORT and HOST are set here); resolves once it prints where
 * it runs. `profileDir`: the server writes a V8 CPU profile there when it stops.
 */
export function startKiln(env: NodeJS.ProcessEnv, profileDir?: string): Promise<KilnServer> {
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(process.execPath, [...profile, CLI, "start"], {
    env: { ...env, PORT: "0", HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const kill = () => child.kill("SIGKILL");
  process.once("exit", kill);
  child.once("exit", () => process.off("exit", kill));
  const lines: Array<Record<string, unknown>> = [];
  let out = "";
  let pending = "";
  const take = (d: Buffer) => {
    const text = d.toString();
    out = (out + text).slice(-20_000);
    pending += text;
    const parts = pending.split("\n");
    pending = parts.pop()!;
    for (const line of parts) {
      if (!line.startsWith("{")) continue;
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {}
    }
  };
  child.stdout!.on("data", take);
  child.stderr!.on("data", take);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kiln start did not start in 120 s:\n${out}`)), 120_000);
    child.once("exit", (code, signal) =>
      reject(new Error(`kiln start exited with ${code ?? signal}:\n${out}`)),
    );
    const watch = () => {
      const match = /running at http:\/\/[^:\s]+:(\d+)/.exec(out);
      if (!match) return;
      child.stdout!.off("data", watch);
      clearTimeout(timer);
      const port = Number(match[1]);
      resolve({
        child,
        url: `http://127.0.0.1:${port}`,
        port,
        logCount: () => lines.length,
        async untilLog(re, since, ms, fields = {}) {
          const end = Date.now() + ms;
          for (;;) {
            const found = lines
              .slice(since)
              .find(
                (l) =>
                  typeof l.msg === "string" &&
                  re.test(l.msg) &&
                  Object.entries(fields).every(([k, v]) => l[k] === v),
              );
            if (found) return found;
            if (child.exitCode !== null) throw new Error(`kiln start exited:\n${out}`);
            if (Date.now() > end) throw new Error(`no log line ${re} in ${ms} ms:\n${out.slice(-4000)}`);
            await new Promise((r) => setTimeout(r, 50));
          }
        },
        stop: () => stopProcess(child),
      });
    };
    child.stdout!.on("data", watch);
  });
}

// biome-ignore lint/suspicious/noExplicitAny: API answers are read loosely here; the tests check their shapes.
export type ApiCall = (method: string, url: string, body?: unknown) => Promise<any>;

/** Signs a new user up; `call` sends their bearer token to `<url>/api<path>` and throws on a non-2xx answer. */
export async function signUp(url: string): Promise<ApiCall> {
  const signup = await fetch(`${url}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      email: `bench-${randomBytes(4).toString("hex")}@example.com`,
      password: "correct horse battery",
      name: "Bench",
    }),
  });
  if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${await signup.text()}`);
  const auth = { authorization: `Bearer ${((await signup.json()) as { accessToken: string }).accessToken}` };
  return async (method, apiPath, body) => {
    const res = await fetch(`${url}/api${apiPath}`, {
      method,
      headers: body === undefined ? auth : { ...auth, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${method} ${apiPath}: ${res.status} ${await res.text()}`);
    return res.json();
  };
}
