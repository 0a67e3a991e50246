import { type PreviewAnswer, previewGet } from "../../packages/server/src/testing/preview.ts";

export type Answer = PreviewAnswer;
/** A GET on loopback with a Host header: Node cannot resolve `*.localhost` here. */
export const getVia = previewGet;

/**
 * Polls `/` every 10 ms until it answers 200 with `mark` in the page; a refused connection counts as "not
 * yet" (a dev server still starting), unlike the tests' `untilPreviewServes`.
 */
export async function untilPage(
  port: number,
  host: string,
  mark: string,
  options: { cookie?: string | undefined; ms?: number } = {},
): Promise<void> {
  const end = Date.now() + (options.ms ?? 120_000);
  let last = "";
  while (Date.now() < end) {
    try {
      const a = await previewGet(port, host, "/", options.cookie);
      if (a.status === 200 && a.body.includes(mark)) return;
      last = `${a.status} ${a.body.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never served the page on ${host}: ${last}`);
}
