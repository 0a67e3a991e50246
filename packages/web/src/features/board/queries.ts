import type { Job } from "@kiln/protocol";
import { queryOptions } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { keys } from "../../api/keys.ts";

export const tasksQuery = (org: string, project: string) =>
  queryOptions({
    queryKey: keys.tasks(org, project),
    queryFn: () => api.tasks.list(org, project),
    // Agents and automation rules move tasks on their own; the board follows without a reload.
    refetchInterval: 3_000,
  });

export const workflowQuery = (org: string, project: string) =>
  queryOptions({
    queryKey: keys.workflow(org, project),
    queryFn: () => api.tasks.workflow(org, project),
    staleTime: 60_000,
  });

export const rulesQuery = (org: string, project: string) =>
  queryOptions({
    queryKey: keys.rules(org, project),
    queryFn: () => api.tasks.rules(org, project),
    staleTime: 60_000,
  });

export const commentsQuery = (org: string, project: string, taskId: string) =>
  queryOptions({
    queryKey: keys.comments(org, project, taskId),
    queryFn: () => api.tasks.comments(org, project, taskId),
    refetchInterval: 3_000,
  });

export const activityQuery = (org: string, project: string, taskId: string) =>
  queryOptions({
    queryKey: keys.activity(org, project, taskId),
    queryFn: () => api.tasks.activity(org, project, taskId),
    refetchInterval: 5_000,
  });

/** The agent's branch of a task against main; refetched when the task's jobs change (see ReviewPanel). */
export const reviewQuery = (org: string, project: string, taskId: string) =>
  queryOptions({
    queryKey: keys.review(org, project, taskId),
    queryFn: () => api.tasks.review(org, project, taskId),
  });

export const taskJobsQuery = (org: string, taskId: string) =>
  queryOptions({
    queryKey: keys.taskJobs(org, taskId),
    queryFn: () => api.jobs.forTask(org, taskId),
    refetchInterval: 3_000,
  });

export const membersQuery = (org: string) =>
  queryOptions({
    queryKey: keys.members(org),
    queryFn: () => api.orgs.members(org),
    staleTime: 60_000,
  });

/** The newest job of each task, for the badge on its card. */
export const latestJobsQuery = (org: string, projectId: string) =>
  queryOptions({
    queryKey: keys.projectJobs(org, projectId),
    queryFn: async () => {
      const latest = new Map<string, Job>();
      // Newest first: the first job seen for a task is its latest.
      for (const job of await api.jobs.forProject(org, projectId)) {
        if (job.taskId && !latest.has(job.taskId)) latest.set(job.taskId, job);
      }
      return latest;
    },
    refetchInterval: 3_000,
  });
