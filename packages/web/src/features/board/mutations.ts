import type { AutomationRule, Task, Workflow } from "@kiln/protocol";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError, isApiError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import type { ErrorToast } from "../../api/query-client.ts";
import { useProject } from "../../state/project-context.tsx";
import { toast } from "../../ui/toast.tsx";
import { moveLocally } from "./order.ts";

/**
 * The board's changes, each with what it refreshes afterwards. Failures become a toast in the query client
 * (api/query-client.ts) unless a form shows them beside its fields (`errorToast: false`).
 */

type CreateTaskBody = Parameters<typeof api.tasks.create>[2];
type UpdateTaskBody = Parameters<typeof api.tasks.update>[3];
type MoveTaskBody = Parameters<typeof api.tasks.move>[3];
type RuleBody = Parameters<typeof api.tasks.createRule>[2];
type StatusBody = Parameters<typeof api.tasks.addStatus>[2];
type StatusPatch = Parameters<typeof api.tasks.updateStatus>[3];

/** The allowed targets a refused move names, when the server sent them. */
function allowedTargets(err: unknown): Array<{ name?: string | null }> | undefined {
  return isApiError(err, "transition_not_allowed")
    ? (err.details as { allowed?: Array<{ name?: string | null }> } | undefined)?.allowed
    : undefined;
}

/** A change of one field of a task from its selects: a refused move names where the task may go. */
const fieldChangeError = (what: string) => (err: unknown) => {
  const allowed = allowedTargets(err);
  return allowed
    ? `${describeError(err)}. Allowed: ${allowed.map((s) => s.name).join(", ") || "none"}.`
    : `Could not change the ${what}: ${describeError(err)}`;
};

export function useCreateTask() {
  const { org, project } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateTaskBody) => api.tasks.create(org, project, body),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.tasks(org, project) }),
    meta: { errorToast: false },
  });
}

/**
 * Edits a task. Without `errorToast` a refusal is toasted naming the field the drawer's selects changed
 * (assignee or priority); false where a form shows the complaint beside its field.
 */
export function useUpdateTask(errorToast?: ErrorToast) {
  const { org, project } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ taskId, body }: { taskId: string; body: UpdateTaskBody }) =>
      api.tasks.update(org, project, taskId, body),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.tasks(org, project) }),
    meta: {
      errorToast:
        errorToast ??
        ((err: unknown, { body }: { body: UpdateTaskBody }) =>
          fieldChangeError(body.priority !== undefined ? "priority" : "assignee")(err)),
    },
  });
}

export interface MoveTask extends MoveTaskBody {
  task: Task;
  /** The target column as the board shows it: given, the card moves there at once (put back on a refusal). */
  column?: readonly Task[];
}

/** Moves a task to a status (and a place in its column). */
export function useMoveTask(errorToast: ErrorToast = fieldChangeError("status")) {
  const { org, project } = useProject();
  const qc = useQueryClient();
  const key = keys.tasks(org, project);
  return useMutation({
    mutationFn: ({ task, column: _, ...body }: MoveTask) => api.tasks.move(org, project, task.id, body),
    onMutate: ({ task, statusId, afterId, column }) => {
      if (!column) return { before: undefined };
      const before = qc.getQueryData<Task[]>(key);
      if (before) qc.setQueryData(key, moveLocally(before, task.id, statusId, afterId ?? null, column));
      return { before };
    },
    onError: (_err, _vars, context) => {
      if (context?.before) qc.setQueryData(key, context.before);
    },
    onSettled: () => qc.invalidateQueries({ queryKey: key }),
    meta: { errorToast },
  });
}

export function useDeleteTask() {
  const { org, project } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (task: Task) => api.tasks.remove(org, project, task.id),
    onSuccess: (_, task) => toast.success(`Deleted #${task.number}`),
    // Not waited for: the drawer closes at once rather than showing the task gone first.
    onSettled: () => void qc.invalidateQueries({ queryKey: keys.tasks(org, project) }),
    meta: {
      errorToast: (err: unknown, task: Task) => `Could not delete #${task.number}: ${describeError(err)}`,
    },
  });
}

export function useAddComment() {
  const { org, project } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ taskId, body }: { taskId: string; body: string }) =>
      api.tasks.comment(org, project, taskId, body),
    onSuccess: (_, { taskId }) => qc.invalidateQueries({ queryKey: keys.task(org, project, taskId) }),
    meta: { errorToast: "Could not comment" },
  });
}

export function useCancelJob() {
  const { org } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ jobId }: { jobId: string; taskId: string }) => api.jobs.cancel(org, jobId),
    onSuccess: (_, { taskId }) => qc.invalidateQueries({ queryKey: keys.taskJobs(org, taskId) }),
    meta: { errorToast: "Could not cancel" },
  });
}

/** Approve or request changes; the review panel shows a refusal itself. */
export function useDecideReview(taskId: string) {
  const { org, project } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Parameters<typeof api.tasks.decide>[3]) =>
      api.tasks.decide(org, project, taskId, body),
    onSuccess: () =>
      Promise.all([
        qc.invalidateQueries({ queryKey: keys.tasks(org, project) }),
        qc.invalidateQueries({ queryKey: keys.taskJobs(org, taskId) }),
      ]),
    meta: { errorToast: false },
  });
}

/** Adds a rule (no `ruleId`) or saves one; the dialog shows a refusal beside its fields. */
export function useSaveRule() {
  const { org, project } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ ruleId, body }: { ruleId?: string; body: RuleBody }) =>
      ruleId ? api.tasks.updateRule(org, project, ruleId, body) : api.tasks.createRule(org, project, body),
    onSuccess: async (_, { ruleId, body }) => {
      await qc.invalidateQueries({ queryKey: keys.rules(org, project) });
      toast.success(ruleId ? `Saved the rule "${body.name}"` : `Added the rule "${body.name}"`);
    },
    meta: { errorToast: false },
  });
}

/** The switch answers at once; a refusal puts it back when the rules are read again. */
export function useSetRuleEnabled() {
  const { org, project } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ rule, enabled }: { rule: AutomationRule; enabled: boolean }) =>
      api.tasks.updateRule(org, project, rule.id, { enabled }),
    onMutate: ({ rule, enabled }) => {
      qc.setQueryData<AutomationRule[]>(keys.rules(org, project), (list) =>
        list?.map((r) => (r.id === rule.id ? { ...r, enabled } : r)),
      );
    },
    onSettled: () => qc.invalidateQueries({ queryKey: keys.rules(org, project) }),
    meta: {
      errorToast: (err: unknown, { enabled }: { enabled: boolean }) =>
        `Could not ${enabled ? "enable the rule" : "disable the rule"}: ${describeError(err)}`,
    },
  });
}

export function useRemoveRule() {
  const { org, project } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (rule: AutomationRule) => api.tasks.removeRule(org, project, rule.id),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.rules(org, project) }),
    meta: { errorToast: "Could not delete the rule" },
  });
}

/**
 * Renames a status or changes where a task may go from it. A change of the allowed moves shows at once;
 * a refusal puts it back when the workflow is read again.
 */
export function useUpdateStatus() {
  const { org, project } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ statusId, body }: { statusId: string; body: StatusPatch }) =>
      api.tasks.updateStatus(org, project, statusId, body),
    onMutate: ({ statusId, body: { transitions } }) => {
      if (!transitions) return;
      qc.setQueryData<Workflow>(
        keys.workflow(org, project),
        (wf) =>
          wf && {
            ...wf,
            statuses: wf.statuses.map((s) => (s.id === statusId ? { ...s, transitions } : s)),
          },
      );
    },
    onSettled: () => qc.invalidateQueries({ queryKey: keys.workflow(org, project) }),
    meta: {
      errorToast: (err: unknown, { body }: { body: StatusPatch }) =>
        `Could not ${body.transitions ? "change the allowed moves" : "rename the status"}: ${describeError(err)}`,
    },
  });
}

export function useAddStatus() {
  const { org, project } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: StatusBody) => api.tasks.addStatus(org, project, body),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.workflow(org, project) }),
    meta: { errorToast: "Could not add the status" },
  });
}

export function useRemoveStatus() {
  const { org, project } = useProject();
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (status: { id: string; name: string }) => api.tasks.removeStatus(org, project, status.id),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.workflow(org, project) }),
    meta: {
      errorToast: (err: unknown, status: { name: string }) =>
        isApiError(err, "status_in_use")
          ? `"${status.name}" stays: ${err.message}.`
          : `Could not delete the status: ${describeError(err)}`,
    },
  });
}
