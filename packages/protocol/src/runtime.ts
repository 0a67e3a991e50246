import { z } from "zod";

export const DevServerState = z.enum(["stopped", "starting", "running", "crashed", "hibernated"]);
export type DevServerState = z.infer<typeof DevServerState>;

export const RuntimeStatus = z
  .object({
    state: DevServerState,
    detail: z.string().describe("What is happening while starting, or why it is not running"),
    previewUrl: z.string().describe("The project's preview origin"),
    startedAt: z.iso.datetime().nullable(),
    exitCode: z.number().int().nullable(),
    logTail: z.array(z.string()).describe("The last lines of the dev server's output"),
  })
  .meta({ id: "RuntimeStatus" });
export type RuntimeStatus = z.infer<typeof RuntimeStatus>;

export const LogLine = z
  .object({
    seq: z.number().int(),
    at: z.iso.datetime(),
    stream: z.enum(["stdout", "stderr", "system"]),
    text: z.string(),
  })
  .meta({ id: "LogLine" });
export type LogLine = z.infer<typeof LogLine>;

/** `GET …/runtime/logs`: the lines after `since` (a stream resumes from Last-Event-ID instead). */
export const LogsQuery = z.strictObject({ since: z.coerce.number().int().min(0).optional() });
export type LogsQuery = z.infer<typeof LogsQuery>;

export const PreviewSession = z
  .object({
    url: z
      .string()
      .describe("Open this (in the preview iframe): it signs the browser in to the preview origin"),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: "PreviewSession" });
export type PreviewSession = z.infer<typeof PreviewSession>;
