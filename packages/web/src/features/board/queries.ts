import type { Job } from "@kiln/protocol";
import { queryOptions } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";

const projectKey = (org: string, project: string) => ["orgs", org, "projects", project];

export const tasksKey = (org: string, project: string) => [...projectKey(org, project), "tasks"];
export const taskKey = (org: string, project: string, taskId: string) => [...tasksKey(org, project), taskId];
export const taskJobsKey = (org: string, taskId: string) => ["orgs", org, "jobs", "task", taskId];
export const workflowKey = (org: string, project: string) => [...projectKey(org, project), "workflow"];
export const rulesKey = (org: string, project: string) => [...projectKey(org, project), "automation-rules"];

export const tasksQuery = (org: string, project: string) =>
  queryOptions({
    queryKey: tasksKey(org, project),
    queryFn: () => api.tasks.list(org, project),
    // Agents and automation rules move tasks on their own; the board follows without a reload.
    refetchInterval: 3_000,
  });

export const workflowQuery = (org: string, project: string) =>
  queryOptions({
    queryKey: workflowKey(org, project),
    queryFn: () => api.tasks.workflow(org, project),
    staleTime: 60_000,
  });

export const rulesQuery = (org: string, project: string) =>
  queryOptions({
    queryKey: rulesKey(org, project),
    queryFn: () => api.tasks.rules(org, project),
    staleTime: 60_000,
  });

export const commentsQuery = (org: string, project: string, taskId: string) =>
  queryOptions({
    queryKey: [...taskKey(org, project, taskId), "comments"],
    queryFn: () => api.tasks.comments(org, project, taskId),
    refetchInterval: 3_000,
  });

export const activityQuery = (org: string, project: string, taskId: string) =>
  queryOptions({
    queryKey: [...taskKey(org, project, taskId), "activity"],
    queryFn: () => api.tasks.activity(org, project, taskId),
    refetchInterval: 5_000,
  });

/** The agent's branch of a task against main; refetched when the task's jobs change (see ReviewPanel). */
export const reviewQuery = (org: string, project: string, taskId: string) =>
  queryOptions({
    queryKey: [...taskKey(org, project, taskId), "review"],
    queryFn: () => api.tasks.review(org, project, taskId),
  });

export const taskJobsQuery = (org: string, taskId: string) =>
  queryOptions({
    queryKey: taskJobsKey(org, taskId),
    queryFn: () => api.jobs.forTask(org, taskId),
    refetchInterval: 3_000,
  });

export const membersQuery = (org: string) =>
  queryOptions({
    queryKey: ["orgs", org, "members"],
    queryFn: () => api.orgs.members(org),
    staleTime: 60_000,
  });

/** The newest job of each task, for the badge on its card. */
export const latestJobsQuery = (org: string, projectId: string) =>
  queryOptions({
    queryKey: ["orgs", org, "jobs", "project", projectId],
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
