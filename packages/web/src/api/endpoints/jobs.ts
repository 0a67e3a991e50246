import { routes } from "@kiln/protocol";
import { call, urlOf } from "../call.ts";

const c = routes.jobs;

export const jobs = {
  forProject: (org: string, projectId: string) =>
    call(c.list, { params: { org }, query: { projectId, limit: 200 } }),
  forTask: (org: string, taskId: string) => call(c.list, { params: { org }, query: { taskId } }),
  cancel: (org: string, jobId: string) => call(c.cancel, { params: { org, jobId } }),
  /** Server-sent events of one job; `after` replays from that event number on. */
  eventsUrl: (org: string, jobId: string, after: number) =>
    urlOf(c.events, { params: { org, jobId }, query: after > 0 ? { after } : {} }),
};
