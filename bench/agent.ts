/**
 * What the chat path adds on top of the model and the sandbox. One run, three parts, each against a baseline
 * measured in the same run:
 *   (a) one token stream: a client reading the fake provider's SSE (/v1/chat/completions) directly (baseline)
 *       vs the same scripted stream through Kiln to an SSE client (POST …/messages, Accept:
 *       text/event-stream): time to first token, per-token latency (paced stream), throughput (unpaced);
 *   (b) per tool call: one scripted turn calling `write_file` and then `bash "true"` N times each, timed from
 *       `tool-call-start` to `tool-call-end` as the client sees them, vs a bare host write and a bare
 *       `bwrap --unshare-all true` (as in bench/sandbox.ts);
 *   (c) K concurrent chats (10, 50, 100, 200) each streaming a slow reply, vs K direct streams at once:
 *       completed turns, time to first token, token latency, the server's CPU time and RSS.
 *
 * Kiln is the real `kiln start` (embedded PGlite in a temp data dir; KILN_BENCH_DATABASE_URL for PostgreSQL)
 * in its own process, so its CPU and RSS are its own. The fake provider runs in another process behind a
 * small proxy that stamps every text chunk as it leaves for its client; per-token latency is the client's
 * arrival time minus that stamp (the two clocks aligned by the fastest of 30 round trips). Kiln and the
 * direct client both go through that proxy, so its hop cancels out.
 *
 *   npm run bench   or   npm exec -- node bench/agent.ts
 *   KILN_BENCH_PARTS=ac KILN_BENCH_TOOL_CALLS=10 KILN_BENCH_CONCURRENCY=10,50 npm exec -- node bench/agent.ts
 *   KILN_BENCH_PROFILE=/tmp/prof …   the server writes a V8 CPU profile there when it stops
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  currentTurn,
  lastUserText,
  type RecordedRequest,
  type Reply,
  readConversation,
  startFakeProvider,
} from "../packages/fake-provider/src/index.ts";
import { BENCH_TEMPLATE_CACHE_DIR, prepareTemplateCaches } from "./lib/template-caches.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const CHUNK = 4;
const TOOL_CALLS = Number(process.env.KILN_BENCH_TOOL_CALLS) || 15;
const LEVELS = (process.env.KILN_BENCH_CONCURRENCY ?? "10,50,100,200,1000").split(",").map(Number);
const PARTS = process.env.KILN_BENCH_PARTS ?? "abc";
const now = () => performance.timeOrigin + performance.now();
/** Set once the bench stops its children, so their exit is not reported as a crash. */
let stopping = false;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the model is asked for, written into the user message: `#tag:<id># {json}`. */
type Spec = { kind: "text"; tokens: number; delayMs: number } | { kind: "tools"; n: number };
const ask = (tag: string, spec: Spec) => `#tag:${tag}# ${JSON.stringify(spec)}`;
const storyOf = (tokens: number) => "kiln fires pots all night ".repeat(tokens).slice(0, tokens * CHUNK);

// --- the model side (child process): fake provider + recording proxy -------------------------------------

function respond(request: RecordedRequest): Reply {
  const conversation = readConversation(request);
  const said = lastUserText(conversation);
  const spec = JSON.parse(said.slice(said.indexOf("{"))) as Spec;
  if (spec.kind === "text") return { text: storyOf(spec.tokens), chunkSize: CHUNK, delayMs: spec.delayMs };
  const step = currentTurn(conversation).filter((m) => m.toolCalls.length > 0).length;
  if (step < spec.n)
    return {
      toolCalls: [{ name: "write_file", arguments: { path: `out/f${step}.txt`, content: "x".repeat(1024) } }],
    };
  // Numbered, or the loop breaker stops a run of identical calls.
  if (step < 2 * spec.n) return { toolCalls: [{ name: "bash", arguments: { command: `true # ${step}` } }] };
  return { text: "done" };
}

async function serveModelSide(): Promise<void> {
  const fake = await startFakeProvider({ responder: respond });
  /** Per tag, of its first model call: when it arrived, and each text chunk as it left for the client. */
  const timelines = new Map<string, Timeline>();
  const proxy = http.createServer(async (req, res) => {
    const parts: Buffer[] = [];
    for await (const part of req as AsyncIterable<Buffer>) parts.push(part);
    const body = Buffer.concat(parts);
    if (req.url === "/__bench/clock") return res.end(String(now()));
    if (req.url === "/__bench/timelines") {
      const tags = JSON.parse(body.toString()) as string[];
      return res.end(JSON.stringify(tags.map((t) => timelines.get(t) ?? { at: Number.NaN, chunks: [] })));
    }
    const tag = [...body.toString().matchAll(/#tag:([\w-]+)#/g)].at(-1)?.[1];
    const line: Timeline | undefined = tag && !timelines.has(tag) ? { at: now(), chunks: [] } : undefined;
    if (tag && line) timelines.set(tag, line);
    const upstream = http.request(
      `${fake.url}${req.url}`,
      // A fresh connection per call, as a provider's client would mostly see one.
      { method: req.method, headers: req.headers, agent: false },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        let buffer = "";
        up.on("data", (chunk: Buffer) => {
          const t = now();
          if (line) {
            buffer += chunk.toString();
            for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
              const content = deltaContent(buffer.slice(0, end));
              buffer = buffer.slice(end + 2);
              if (content) addText(line.chunks, content, t);
            }
          }
          res.write(chunk);
        });
        up.on("end", () => res.end());
      },
    );
    upstream.on("error", () => res.destroy());
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  });
  proxy.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  process.stdout.write(
    `${JSON.stringify({ url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` })}\n`,
  );
  process.once("SIGTERM", () => void fake.close().then(() => process.exit(0)));
  // The bench holds our stdin: when it dies, however it dies, so do we.
  process.stdin.resume();
  process.stdin.once("close", () => process.exit(0));
}

interface Timeline {
  /** When the model call reached the provider. */
  at: number;
  /** [characters streamed so far, when that chunk left for the client]. */
  chunks: Array<[number, number]>;
}

/** Text arrivals are kept as [characters so far, time], so chunks can be matched however they were split. */
function addText(line: Array<[number, number]>, piece: string, t: number): void {
  line.push([(line.at(-1)?.[0] ?? 0) + piece.length, t]);
}

/** The text of one Chat Completions SSE frame, if it carries any. */
function deltaContent(frame: string): string {
  const data = /^data: (.*)$/m.exec(frame)?.[1];
  if (!data || data === "[DONE]") return "";
  return (
    (JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta
      ?.content ?? ""
  );
}

// --- the client side -------------------------------------------------------------------------------------

interface Stream {
  status: number;
  startedAt: number;
  /** [characters of text received so far, arrival time] per text piece. */
  text: Array<[number, number]>;
  /** Kiln events with their arrival time. */
  events: Array<{
    t: number;
    event: { type: string; toolCallId?: string; toolName?: string; durationMs?: number; status?: string };
  }>;
  ended: boolean;
}

/** POSTs and reads an SSE answer, stamping every chunk on arrival. `kiln` frames are RunEvents. */
function readStream(
  url: string,
  headers: Record<string, string>,
  body: unknown,
  kiln: boolean,
): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const out: Stream = { status: 0, startedAt: 0, text: [], events: [], ended: false };
    const req = http.request(
      url,
      {
        method: "POST",
        agent: false,
        headers: { ...headers, accept: "text/event-stream", "content-type": "application/json" },
      },
      (res) => {
        out.status = res.statusCode ?? 0;
        let buffer = "";
        res.on("data", (chunk: Buffer) => {
          const t = now();
          buffer += chunk.toString();
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (!kiln) {
              const content = deltaContent(frame);
              if (content) addText(out.text, content, t);
              continue;
            }
            const data = /^data: (.*)$/m.exec(frame)?.[1];
            if (!data) continue;
            const event = (
              JSON.parse(data) as { event: Stream["events"][number]["event"] & { delta?: string } }
            ).event;
            out.events.push({ t, event });
            if (event.type === "text-delta" && event.delta) addText(out.text, event.delta, t);
          }
        });
        res.on("end", () => {
          out.ended = true;
          resolve(out);
        });
        res.on("error", reject);
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error(`no answer in time: ${url}`)));
    req.on("error", reject);
    out.startedAt = now();
    req.end(JSON.stringify(body));
  });
}

/** Per provider chunk: when the client had received it minus when it left the proxy (client clock). */
function tokenLatencies(stream: Stream, line: Timeline, offset: number): number[] {
  const out: number[] = [];
  let i = 0;
  for (const [chars, sentAt] of line.chunks) {
    while (i < stream.text.length && stream.text[i]![0] < chars) i++;
    if (i < stream.text.length) out.push(stream.text[i]![1] - (sentAt + offset));
  }
  return out;
}

function pct(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function startChild(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(process.execPath, args, { env, stdio: ["pipe", "pipe", "pipe"] });
  // A crash of the bench must not leave a server or the fake provider running.
  process.once("exit", () => child.kill("SIGKILL"));
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(" ")} did not start:\n${out}`)), 60_000);
    const check = () => {
      const match = ready.exec(out);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off("data", check);
      resolve({ child, match });
    };
    child.stdout!.on("data", (d) => {
      if (out.length < 100_000) out += d;
    });
    child.stdout!.on("data", check);
    child.stderr!.on("data", (d) => (out += d));
    child.on("exit", (code, signal) => {
      const error = new Error(`${args.join(" ")} exited with ${code ?? signal}:\n${out}`);
      if (!stopping) process.stderr.write(`${error.message}\n`);
      reject(error);
    });
  });
}

/** CPU seconds a process has used (user + system; clock ticks are 1/100 s on Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Waits until a fresh server's start-up work in the background is done — its own and its sandboxes' (spare
 * workspaces warmed by a dev server of their own): the CPU of its process tree, the children it reaped
 * included, below 5 % for two seconds in a row, 60 s at most. Resolves with the seconds waited.
 */
async function settle(pid: number): Promise<number> {
  const t0 = performance.now();
  let last = await treeCpuSeconds(pid);
  let quiet = 0;
  while (performance.now() - t0 < 60_000 && quiet < 2) {
    await sleep(1000);
    const cpu = await treeCpuSeconds(pid);
    quiet = cpu - last < 0.05 ? quiet + 1 : 0;
    last = cpu;
  }
  return (performance.now() - t0) / 1000;
}

/** utime + stime + cutime + cstime of `pid` and every live descendant, seconds. */
async function treeCpuSeconds(pid: number): Promise<number> {
  const stats = new Map<number, { ppid: number; cpu: number }>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpu = [11, 12, 13, 14].reduce((n, i) => n + Number(fields[i]), 0) / 100;
    stats.set(Number(entry), { ppid: Number(fields[1]), cpu });
  }
  let total = 0;
  const inTree = (p: number): boolean => {
    for (let at = p, hops = 0; at > 1 && hops < 64; hops++) {
      if (at === pid) return true;
      at = stats.get(at)?.ppid ?? 0;
    }
    return false;
  };
  for (const [p, s] of stats) if (inTree(p)) total += s.cpu;
  return total;
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0) / 1024;
}

function spawnOnce(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

async function timeEach(runs: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  await fn(-1);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn(i);
    times.push(performance.now() - t0);
  }
  return times;
}

const ms = (v: number) => (Number.isNaN(v) ? "—" : v.toFixed(v < 10 ? 2 : 1)).padStart(9);
function table(title: string, rows: Array<{ what: string; values: number[]; base?: number[] }>): void {
  const width = Math.max(...rows.map((r) => r.what.length));
  process.stdout.write(
    `\n${title}\n${"".padEnd(width)}    p50 ms    p90 ms    p99 ms     n   p50 vs baseline\n`,
  );
  for (const r of rows) {
    const [p50, base] = [pct(r.values, 50), r.base ? pct(r.base, 50) : Number.NaN];
    const ratio = r.base ? `+${(p50 - base).toFixed(2)} ms (${(p50 / base).toFixed(2)}×)` : "";
    process.stdout.write(
      `${r.what.padEnd(width)} ${ms(pct(r.values, 50))} ${ms(pct(r.values, 90))} ${ms(pct(r.values, 99))} ${String(r.values.length).padStart(5)}   ${ratio}\n`,
    );
  }
}

/** What every part needs: Kiln and the model side running, a signed-in user with a project. */
interface Bench {
  work: string;
  pid: number;
  /** Our clock minus the model side's: add to its stamps. */
  offset: number;
  newChats(n: number): Promise<string[]>;
  direct(tag: string, spec: Spec): Promise<Stream>;
  viaKiln(chat: string, tag: string, spec: Spec): Promise<Stream>;
  timelines(tags: string[]): Promise<Timeline[]>;
}

async function setUp(work: string, children: ChildProcess[]): Promise<Bench> {
  const model = await startChild(
    [fileURLToPath(import.meta.url), "--model-side"],
    process.env,
    /^(\{.*\})\n/m,
  );
  children.push(model.child);
  const modelUrl = (JSON.parse(model.match[1]!) as { url: string }).url;
  let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
  for (let i = 0; i < 30; i++) {
    const t0 = now();
    const remote = Number(await (await fetch(`${modelUrl}/__bench/clock`)).text());
    const t1 = now();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: (t0 + t1) / 2 - remote };
  }

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KILN_DATA_DIR: path.join(work, "data"),
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    OPENAI_BASE_URL: `${modelUrl}/v1`,
    OPENAI_API_KEY: "fake-key",
    KILN_MODEL: "openai/fake-model",
    KILN_LLM_RATE_LIMIT_PER_MINUTE: "100000",
    // Part (c) runs up to 200 turns of one user at once: lift the per-user and per-org turn caps.
    KILN_MAX_CHAT_RUNS_PER_USER: "0",
    KILN_MAX_CHAT_RUNS_PER_ORG: "0",
    // …and its per-user cap on open streams (32 by default): each chat here is one stream.
    KILN_MAX_STREAMS_PER_USER: "100000",
    KILN_AGENT_MAX_STEPS: String(2 * TOOL_CALLS + 5),
    KILN_TEMPLATE_CACHE_DIR: BENCH_TEMPLATE_CACHE_DIR,
  };
  delete env.DATABASE_URL;
  if (process.env.KILN_BENCH_DATABASE_URL) env.DATABASE_URL = process.env.KILN_BENCH_DATABASE_URL;
  process.stdout.write(
    `template dependency caches ready in ${(await prepareTemplateCaches(env)).toFixed(1)} s\n`,
  );
  const t0 = performance.now();
  const cli = path.join(here, "../packages/server/src/cli.ts");
  // KILN_BENCH_PROFILE=<dir>: the server writes a V8 CPU profile there when it stops.
  const profile = process.env.KILN_BENCH_PROFILE
    ? ["--cpu-prof", `--cpu-prof-dir=${process.env.KILN_BENCH_PROFILE}`]
    : [];
  const started = await startChild([...profile, cli, "start"], env, /running at (http:\/\/\S+)/);
  children.push(started.child);
  const kiln = started.match[1]!.replace("localhost", "127.0.0.1");
  const settled = await settle(started.child.pid!);
  process.stdout.write(
    `kiln start (${env.DATABASE_URL ? "PostgreSQL" : "embedded PGlite"}) ready in ${((performance.now() - t0) / 1000).toFixed(1)} s, settled after ${settled.toFixed(1)} s more; ` +
      `clocks aligned within ±${(best.rtt / 2).toFixed(2)} ms\n`,
  );

  const email = `bench-${randomBytes(4).toString("hex")}@example.com`;
  const signup = await fetch(`${kiln}/api/auth/signup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, password: "correct horse battery", name: "Bench" }),
  });
  if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${await signup.text()}`);
  const token = ((await signup.json()) as { accessToken: string }).accessToken;
  const auth = { authorization: `Bearer ${token}` };
  const post = async (url: string, body: unknown): Promise<{ id: string; slug: string }> => {
    const res = await fetch(`${kiln}/api${url}`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string; slug: string };
  };
  const org = (await post("/orgs", { name: "Bench", slug: `bench-${randomBytes(3).toString("hex")}` })).slug;
  const project = (await post(`/orgs/${org}/projects`, { name: "Agent bench", template: "static" })).slug;
  const chats = `/orgs/${org}/projects/${project}/chats`;
  return {
    work,
    pid: started.child.pid!,
    offset: best.offset,
    async newChats(n) {
      const ids: string[] = [];
      while (ids.length < n) {
        const batch = Array.from({ length: Math.min(20, n - ids.length) }, () => post(chats, {}));
        ids.push(...(await Promise.all(batch)).map((c) => c.id));
      }
      return ids;
    },
    direct: (tag, spec) =>
      readStream(
        `${modelUrl}/v1/chat/completions`,
        { authorization: "Bearer fake-key" },
        { model: "fake-model", stream: true, messages: [{ role: "user", content: ask(tag, spec) }] },
        false,
      ),
    viaKiln: (chat, tag, spec) =>
      readStream(`${kiln}/api${chats}/${chat}/messages`, auth, { content: ask(tag, spec) }, true),
    timelines: async (tags) =>
      (await (
        await fetch(`${modelUrl}/__bench/timelines`, { method: "POST", body: JSON.stringify(tags) })
      ).json()) as Timeline[],
  };
}

const ttft = (s: Stream) => (s.text[0] ? s.text[0][1] - s.startedAt : Number.NaN);

/** (a) One stream: time to first token, per-token latency (paced), throughput (unpaced). */
async function streamPart(b: Bench): Promise<void> {
  const RUNS = 4;
  const paced: Spec = { kind: "text", tokens: 200, delayMs: 5 };
  const burst: Spec = {
    kind: "text",
    tokens: Number(process.env.KILN_BENCH_BURST_TOKENS) || 2000,
    delayMs: 0,
  };
  const chats = await b.newChats(RUNS + 4);
  const ttfts = { direct: [] as number[], kiln: [] as number[] };
  /** Kiln only: from the POST to the model call reaching the provider (storing, prompt, model lookup). */
  const calling: number[] = [];
  /** Kiln only: the turn ends after its checkpoint (a git commit in the sandbox, ADR 0010). */
  const closing: number[] = [];
  const tokens = { direct: [] as number[], kiln: [] as number[] };
  const rate = { direct: [] as number[], kiln: [] as number[] };
  // Run 0 warms both paths up and is not counted.
  for (let i = 0; i <= RUNS; i++) {
    const d = await b.direct(`a${i}-direct`, paced);
    const k = await b.viaKiln(chats[i]!, `a${i}-kiln`, paced);
    if (i === 0) continue;
    const [dl, kl] = await b.timelines([`a${i}-direct`, `a${i}-kiln`]);
    const end = k.events.find((e) => e.event.type === "message-end");
    closing.push(end && k.text.length > 0 ? end.t - k.text.at(-1)![1] : Number.NaN);
    calling.push(kl!.at + b.offset - k.startedAt);
    ttfts.direct.push(ttft(d));
    ttfts.kiln.push(ttft(k));
    tokens.direct.push(...tokenLatencies(d, dl!, b.offset));
    tokens.kiln.push(...tokenLatencies(k, kl!, b.offset));
  }
  for (let i = 0; i < 3; i++) {
    const d = await b.direct(`b${i}-direct`, burst);
    const k = await b.viaKiln(chats[RUNS + 1 + i]!, `b${i}-kiln`, burst);
    for (const [s, into] of [
      [d, rate.direct],
      [k, rate.kiln],
    ] as const) {
      const last = s.text.at(-1);
      if (last?.[0] !== burst.tokens * CHUNK)
        throw new Error(`burst stream broke: ${JSON.stringify(s.events.at(-1))}`);
      into.push((burst.tokens / (last[1] - s.startedAt)) * 1000);
    }
  }
  table(
    `(a) one stream of ${paced.tokens} tokens (${CHUNK} chars each) paced ${paced.delayMs} ms by the provider, ${RUNS} runs each`,
    [
      { what: "time to first token, direct (baseline)", values: ttfts.direct },
      { what: "time to first token, via Kiln", values: ttfts.kiln, base: ttfts.direct },
      { what: "  of which: POST → model call reaches provider", values: calling },
      { what: "per-token latency, direct (baseline)", values: tokens.direct },
      { what: "per-token latency, via Kiln", values: tokens.kiln, base: tokens.direct },
      { what: "via Kiln: last token → message-end", values: closing },
    ],
  );
  const [dr, kr] = [pct(rate.direct, 50), pct(rate.kiln, 50)];
  process.stdout.write(
    `added latency per token: p50 ${(pct(tokens.kiln, 50) - pct(tokens.direct, 50)).toFixed(2)} ms, ` +
      `p99 ${(pct(tokens.kiln, 99) - pct(tokens.direct, 99)).toFixed(2)} ms\n` +
      `throughput, ${burst.tokens} tokens unpaced (request → last token), median of 3: direct ${dr.toFixed(0)} tok/s, ` +
      `via Kiln ${kr.toFixed(0)} tok/s, Kiln/direct ${(kr / dr).toFixed(3)}\n`,
  );
}

/** (b) Per tool call, from the client's view and the tool's own timing, against bare host operations. */
async function toolPart(b: Bench): Promise<void> {
  const [chat] = await b.newChats(1);
  const turn = await b.viaKiln(chat!, "tools", { kind: "tools", n: TOOL_CALLS });
  const end = turn.events.at(-1)?.event;
  if (end?.type !== "message-end" || end.status !== "completed")
    throw new Error(`tool turn: ${JSON.stringify(end)}`);
  const started = new Map(
    turn.events.filter((e) => e.event.type === "tool-call-start").map((e) => [e.event.toolCallId, e.t]),
  );
  const perTool = (name: string) => {
    const ends = turn.events.filter((e) => e.event.type === "tool-call-end" && e.event.toolName === name);
    return {
      client: ends.map((e) => e.t - started.get(e.event.toolCallId)!),
      inside: ends.map((e) => e.event.durationMs ?? Number.NaN),
    };
  };
  const write = perTool("write_file");
  const bash = perTool("bash");
  const scratch = path.join(b.work, "scratch");
  await mkdir(scratch);
  const bareWrite = await timeEach(TOOL_CALLS, (i) =>
    writeFile(path.join(scratch, `f${i}.txt`), "x".repeat(1024)),
  );
  // The same minimal sandbox as bench/sandbox.ts: namespaces and a read-only /usr, nothing of Kiln's.
  const sandbox = "--unshare-all --die-with-parent --ro-bind /usr /usr --proc /proc --dev /dev";
  const bwrap = `${sandbox} --symlink usr/lib64 /lib64 --symlink usr/lib /lib /usr/bin/true`.split(" ");
  const bareBwrap = await timeEach(TOOL_CALLS, () => spawnOnce("bwrap", bwrap));
  table(`(b) per tool call, one turn calling write_file ×${TOOL_CALLS} then bash "true" ×${TOOL_CALLS}`, [
    { what: "baseline: fs.writeFile 1 KiB on the host", values: bareWrite },
    { what: "write_file: tool-call-start → end (client)", values: write.client, base: bareWrite },
    { what: "  inside the tool (durationMs)", values: write.inside },
    { what: "baseline: bare bwrap --unshare-all true", values: bareBwrap },
    { what: 'bash "true": tool-call-start → end (client)', values: bash.client, base: bareBwrap },
    { what: "  inside the tool (durationMs)", values: bash.inside },
  ]);
}

/** (c) K chats streaming at once through one server, against K direct streams from the same provider. */
async function concurrencyPart(b: Bench): Promise<void> {
  const slow: Spec = { kind: "text", tokens: 20, delayMs: 50 };
  const full = slow.tokens * CHUNK;
  const rows: string[] = [];
  for (const k of LEVELS) {
    const tags = Array.from({ length: k }, (_, i) => `c${k}-${i}`);
    const direct = await Promise.all(tags.map((tag) => b.direct(`${tag}-direct`, slow)));
    const directLines = await b.timelines(tags.map((t) => `${t}-direct`));
    const directTok = direct.flatMap((s, i) => tokenLatencies(s, directLines[i]!, b.offset));

    const chats = await b.newChats(k);
    await sleep(500);
    const idle = await rssMb(b.pid);
    let peak = idle;
    const sampler = setInterval(() => {
      rssMb(b.pid).then(
        (v) => {
          peak = Math.max(peak, v);
        },
        () => {},
      );
    }, 100);
    const [t0, cpu0] = [performance.now(), await cpuSeconds(b.pid)];
    const results = await Promise.allSettled(chats.map((chat, i) => b.viaKiln(chat, tags[i]!, slow)));
    const [wall, cpu] = [performance.now() - t0, (await cpuSeconds(b.pid)) - cpu0];
    clearInterval(sampler);
    const lines = await b.timelines(tags);
    const streams = results.map((r) => (r.status === "fulfilled" ? r.value : undefined));
    const ok = streams.filter(
      (s) => s?.ended && s.text.at(-1)?.[0] === full && s.events.at(-1)?.event.status === "completed",
    );
    const tok = streams.flatMap((s, i) => (s ? tokenLatencies(s, lines[i]!, b.offset) : []));
    const firsts = streams.flatMap((s) => (s ? [ttft(s)] : []));
    const cells = [
      String(k).padStart(4),
      `${ok.length}/${k}`.padStart(9),
      ms(pct(directTok, 50)),
      ms(pct(directTok, 99)),
      ms(pct(firsts, 50)),
      ms(pct(firsts, 99)),
      ms(pct(tok, 50)),
      ms(pct(tok, 99)),
      (wall / 1000).toFixed(1).padStart(7),
      cpu.toFixed(1).padStart(6),
      idle.toFixed(0).padStart(9),
      peak.toFixed(0).padStart(9),
      (((peak - idle) * 1024) / k).toFixed(0).padStart(8),
      os.loadavg()[0]!.toFixed(1).padStart(5),
    ];
    rows.push(cells.join(" "));
    const refused = streams.filter((s) => s && s.status !== 200).length;
    if (refused > 0) process.stderr.write(`K=${k}: ${refused} answered with an error status\n`);
    const failures = results.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
    if (failures.length > 0)
      process.stderr.write(`K=${k}: ${failures.length} failed, first: ${failures[0]}\n`);
  }
  process.stdout.write(
    `\n(c) K concurrent chats, each streaming ${slow.tokens} tokens paced ${slow.delayMs} ms; baseline: K direct streams at once\n` +
      "                 direct token ms     via Kiln: TTFT ms     token ms                   Kiln   Kiln RSS MB        per chat\n" +
      "   K  completed       p50       p99       p50       p99       p50       p99  wall s  CPU s      idle      peak  KB peak  load\n" +
      `${rows.join("\n")}\n`,
  );
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), "kiln-bench-agent-"));
  const children: ChildProcess[] = [];
  try {
    const b = await setUp(work, children);
    for (const [part, run] of [
      ["a", streamPart],
      ["b", toolPart],
      ["c", concurrencyPart],
    ] as const) {
      if (!PARTS.includes(part)) continue;
      const t0 = performance.now();
      await run(b);
      process.stdout.write(`(${part}) took ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    stopping = true;
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
    await rm(work, { recursive: true, force: true, maxRetries: 5 });
  }
}

if (process.argv[2] === "--model-side") await serveModelSide();
else await main();
