import type { Job } from "@kiln/protocol";
import { http } from "../client.ts";
import { e, orgPath } from "./paths.ts";

export const jobs = {
  forProject: (org: string, projectId: string) =>
    http.get<Job[]>(`${orgPath(org)}/jobs`, { query: { projectId, limit: 200 } }),
  forTask: (org: string, taskId: string) => http.get<Job[]>(`${orgPath(org)}/jobs`, { query: { taskId } }),
  cancel: (org: string, jobId: string) => http.post<Job>(`${orgPath(org)}/jobs/${e(jobId)}/cancel`),
  /** Server-sent events of one job; `after` replays from that event number on. */
  eventsUrl: (org: string, jobId: string, after: number) =>
    `${orgPath(org)}/jobs/${e(jobId)}/events${after > 0 ? `?after=${after}` : ""}`,
};
