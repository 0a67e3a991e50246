import http from "node:http";
import type { TestClient } from "./client.ts";

export interface PreviewAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A request to a preview (or published site's) host over real HTTP: connect to loopback and send the Host
 * header (this machine's resolver does not map `*.localhost`, and `fetch` cannot set Host). A GET unless
 * `options` says otherwise.
 */
export function previewGet(
  port: number,
  host: string,
  path: string,
  cookie?: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<PreviewAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        headers: { host, ...(cookie ? { cookie } : {}), ...options.headers },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/** Signs in to a project's private preview the way the studio does: hand-off link → cookie. */
export async function previewSession(
  client: TestClient,
  port: number,
  org: string,
  project: string,
): Promise<{ host: string; cookie: string }> {
  const res = await client.post(`/api/orgs/${org}/projects/${project}/preview-session`);
  if (res.statusCode !== 200) throw new Error(`preview-session answered ${res.statusCode}: ${res.body}`);
  const url = new URL(res.json().url);
  const answer = await previewGet(port, url.host, url.pathname + url.search);
  const setCookie = answer.headers["set-cookie"]?.find((c) => c.startsWith("kiln_preview="));
  if (!setCookie) throw new Error(`no preview cookie: ${answer.status}`);
  return { host: url.host, cookie: setCookie.split(";")[0]! };
}

/** Polls the preview until it serves a page containing `text`. */
export async function untilPreviewServes(
  port: number,
  host: string,
  cookie: string | undefined,
  text: string,
  ms = 60_000,
): Promise<PreviewAnswer> {
  const end = Date.now() + ms;
  let last: PreviewAnswer | undefined;
  while (Date.now() < end) {
    last = await previewGet(port, host, "/", cookie);
    if (last.status === 200 && last.body.includes(text)) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`preview never served "${text}"; last answer ${last?.status}: ${last?.body.slice(0, 500)}`);
}
