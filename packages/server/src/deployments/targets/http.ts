import { TargetError } from "./adapter.ts";

/** Bytes of a provider's error body kept for the log. */
const ERROR_TEXT = 300;
/** A provider's answers are small JSON documents; a larger one is not read to its end. */
const MAX_ANSWER = 4 * 1024 * 1024;

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: a provider's JSON, read field by field and checked where used
  json: any;
}

/**
 * One request to a provider's API: JSON (or raw bytes) in, JSON out. A network failure or an answer that is
 * not JSON is a TargetError naming the step; HTTP errors are answered to the caller, which knows the codes.
 */
export async function request(
  fetchFn: typeof fetch,
  what: string,
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string | Uint8Array; signal: AbortSignal },
): Promise<Answer> {
  let res: Response;
  try {
    res = await fetchFn(url, init);
  } catch (err) {
    if (init.signal.aborted) throw new TargetError(`${what}: stopped`);
    throw new TargetError(`${what}: the provider could not be reached (${(err as Error).message})`);
  }
  const text = await readCapped(res, what);
  if (!text) return { status: res.status, json: null };
  try {
    return { status: res.status, json: JSON.parse(text) };
  } catch {
    if (res.ok) throw new TargetError(`${what}: the provider answered ${res.status} with something not JSON`);
    return { status: res.status, json: { message: text.slice(0, ERROR_TEXT) } };
  }
}

async function readCapped(res: Response, what: string): Promise<string> {
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.length;
    if (size > MAX_ANSWER) {
      await res.body.cancel().catch(() => {});
      throw new TargetError(`${what}: the provider's answer is larger than ${MAX_ANSWER} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A provider refusal as a sentence: the step, the status and what the provider said (never our token). */
export function refused(what: string, answer: Answer, said: unknown): TargetError {
  const text = typeof said === "string" ? said : JSON.stringify(said ?? answer.json ?? "");
  const hint =
    answer.status === 401 || answer.status === 403 ? " (check the target's token and its permissions)" : "";
  return new TargetError(
    `${what}: the provider answered ${answer.status}: ${text.slice(0, ERROR_TEXT)}${hint}`,
  );
}

/** Waits `ms`, or less if the deployment is stopped. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Polls `check` until it answers a result, the deployment is stopped or `timeoutMs` passes. */
export async function poll<T>(
  what: string,
  ctx: { pollMs: number; timeoutMs: number; signal: AbortSignal },
  check: () => Promise<T | undefined>,
): Promise<T> {
  for (const until = Date.now() + ctx.timeoutMs; ; ) {
    const result = await check();
    if (result !== undefined) return result;
    if (ctx.signal.aborted) throw new TargetError(`${what}: stopped`);
    if (Date.now() > until)
      throw new TargetError(`${what}: not ready after ${Math.round(ctx.timeoutMs / 1000)} s`);
    await pause(ctx.pollMs, ctx.signal);
  }
}
