import { z } from "zod";
import { Id } from "../common.ts";
import { Job, JobEvent, JobEventsQuery, JobListQuery, StartJobBody } from "../jobs.ts";
import { defineRoute } from "./define.ts";
import { OrgParams, ProjectParams } from "./params.ts";

const tags = ["jobs"];
const JOBS = "/api/orgs/:org/jobs";
const JobParams = OrgParams.extend({ jobId: Id });

export const jobs = {
  list: defineRoute({
    method: "GET",
    path: JOBS,
    summary: "The org's jobs, newest first (filter by project, task or state)",
    tags,
    permission: "jobs.read",
    params: OrgParams,
    query: JobListQuery,
    response: z.array(Job),
  }),
  get: defineRoute({
    method: "GET",
    path: `${JOBS}/:jobId`,
    summary: "A job",
    tags,
    permission: "jobs.read",
    params: JobParams,
    response: Job,
    errors: ["job_not_found"],
  }),
  /** JSON (one page after `after`), or with Accept: text/event-stream live until the job is over. */
  events: defineRoute({
    method: "GET",
    path: `${JOBS}/:jobId/events`,
    summary: "A job's events: JSON, or a live SSE stream that replays from Last-Event-ID",
    tags,
    permission: "jobs.read",
    params: JobParams,
    query: JobEventsQuery,
    response: z.array(JobEvent),
    errors: ["job_not_found"],
  }),
  cancel: defineRoute({
    method: "POST",
    path: `${JOBS}/:jobId/cancel`,
    summary: "Cancel a job (a running one stops once its worker acknowledges)",
    tags,
    permission: "jobs.write",
    params: JobParams,
    response: Job,
    errors: ["job_not_found", "job_not_active"],
  }),
  start: defineRoute({
    method: "POST",
    path: "/api/orgs/:org/projects/:project/jobs",
    summary: "Start a job on the project by hand",
    tags,
    permission: "jobs.write",
    params: ProjectParams,
    body: StartJobBody,
    status: 201,
    response: Job,
    errors: ["project_not_found"],
  }),
};
