import { type Member, TASK_PRIORITIES, type Task, type TaskPriority, UpdateTaskBody } from "@kiln/protocol";
import { type FormEvent, useState } from "react";
import { errorsFromApi, type FormErrors, issuesToErrors } from "../../api/form-errors.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input, Select } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";
import { AgentOptions, useOrgAgents } from "./agent-options.tsx";
import { assigneeValue, parseAssignee, parseLabels } from "./assignee.ts";
import { useUpdateTask } from "./mutations.ts";
import { descendantIds } from "./subtasks.ts";

const textarea =
  "w-full rounded-md border border-line bg-surface-0 px-2.5 py-2 text-sm text-neutral-100 focus:border-accent-500 focus:outline-none";

/**
 * A task's editable fields in one form. Only what changed is sent; the protocol's own schema checks it
 * first, so a mistake is named beside its field before a request is made, and the server's answer the same way.
 */
export function TaskEditor({
  task,
  tasks,
  members,
  onDone,
}: {
  task: Task;
  tasks: readonly Task[];
  members: readonly Member[] | undefined;
  onDone: () => void;
}) {
  const update = useUpdateTask(false);
  const agents = useOrgAgents();
  const [title, setTitle] = useState(task.title);
  const [description, setDescription] = useState(task.description);
  const [priority, setPriority] = useState<TaskPriority>(task.priority);
  const [assignee, setAssignee] = useState(assigneeValue(task.assignee));
  const [labels, setLabels] = useState(task.labels.join(", "));
  const [parentId, setParentId] = useState(task.parentId ?? "");
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });

  // A task cannot sit under itself or under one of its own subtasks.
  const excluded = descendantIds(tasks, task.id);
  const parents = tasks.filter((t) => t.id !== task.id && !excluded.has(t.id));

  const changes = (): Record<string, unknown> => {
    const body: Record<string, unknown> = {};
    if (title !== task.title) body.title = title;
    if (description !== task.description) body.description = description;
    if (priority !== task.priority) body.priority = priority;
    if (assignee !== assigneeValue(task.assignee)) body.assignee = parseAssignee(assignee);
    const nextLabels = parseLabels(labels);
    if (nextLabels.join("\n") !== task.labels.join("\n")) body.labels = nextLabels;
    if (parentId !== (task.parentId ?? "")) body.parentId = parentId || null;
    return body;
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = changes();
    if (Object.keys(body).length === 0) return onDone();
    if (body.title !== undefined && !title.trim())
      return setErrors({ fields: { title: "A task needs a title." } });
    const checked = UpdateTaskBody.safeParse(body);
    if (!checked.success) return setErrors(issuesToErrors(checked.error.issues));
    setErrors({ fields: {} });
    update.mutate(
      { taskId: task.id, body: checked.data },
      {
        onSuccess: () => {
          toast.success(`Saved #${task.number}`);
          onDone();
        },
        onError: (err) => setErrors(errorsFromApi(err)),
      },
    );
  };

  // Typing in a field takes its complaint away.
  const edit =
    <T,>(field: string, setter: (v: T) => void) =>
    (value: T) => {
      setter(value);
      if (errors.fields[field]) setErrors((e) => ({ ...e, fields: { ...e.fields, [field]: "" } }));
    };

  const f = errors.fields;
  return (
    <form
      onSubmit={submit}
      aria-label="Edit task"
      className="flex flex-col gap-3"
      onKeyDown={(e) => {
        // Escape leaves the form, not the whole drawer.
        if (e.key === "Escape") {
          e.stopPropagation();
          onDone();
        }
      }}
    >
      <Field label="Title" error={f.title}>
        {(id) => (
          <Input
            id={id}
            value={title}
            onChange={(e) => edit("title", setTitle)(e.target.value)}
            aria-invalid={!!f.title}
            autoFocus
          />
        )}
      </Field>
      <Field label="Description" hint="Markdown" error={f.description}>
        {(id) => (
          <textarea
            id={id}
            value={description}
            onChange={(e) => edit("description", setDescription)(e.target.value)}
            aria-invalid={!!f.description}
            rows={8}
            className={textarea}
          />
        )}
      </Field>
      <div className="grid grid-cols-1 gap-2 sm:grid-cols-2">
        <Field label="Priority" error={f.priority}>
          {(id) => (
            <Select
              id={id}
              value={priority}
              onChange={(e) => edit("priority", setPriority)(e.target.value as TaskPriority)}
            >
              {TASK_PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {p === "none" ? "No priority" : p}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Assignee" error={f.assignee}>
          {(id) => (
            <Select id={id} value={assignee} onChange={(e) => edit("assignee", setAssignee)(e.target.value)}>
              <option value="">Nobody</option>
              <AgentOptions agents={agents} current={assignee} prefix="Agent: " />
              {members?.map((m) => (
                <option key={m.userId} value={`member:${m.userId}`}>
                  {m.name || m.email}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Labels" hint="Comma-separated" error={f.labels}>
          {(id) => (
            <Input id={id} value={labels} onChange={(e) => edit("labels", setLabels)(e.target.value)} />
          )}
        </Field>
        <Field label="Parent task" error={f.parentId}>
          {(id) => (
            <Select id={id} value={parentId} onChange={(e) => edit("parentId", setParentId)(e.target.value)}>
              <option value="">No parent</option>
              {parents.map((t) => (
                <option key={t.id} value={t.id}>
                  #{t.number} {t.title}
                </option>
              ))}
            </Select>
          )}
        </Field>
      </div>
      {errors.form && (
        <p role="alert" className="text-xs text-red-400">
          {errors.form}
        </p>
      )}
      <div className="flex justify-end gap-2">
        <Button variant="ghost" onClick={onDone}>
          Cancel
        </Button>
        <Button type="submit" variant="primary" loading={update.isPending}>
          Save
        </Button>
      </div>
    </form>
  );
}
