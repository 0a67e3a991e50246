import { type Member, TASK_PRIORITIES, type TaskPriority, type WorkflowStatus } from "@kiln/protocol";
import { type FormEvent, useState } from "react";
import { describeError } from "../../api/errors.ts";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { Field, Input, Select } from "../../ui/input.tsx";
import { AgentOptions, useOrgAgents } from "./agent-options.tsx";
import { parseAssignee, parseLabels } from "./assignee.ts";
import { useCreateTask } from "./mutations.ts";

export function CreateTaskDialog({
  open,
  onClose,
  statuses,
  members,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  statuses: readonly WorkflowStatus[];
  members: readonly Member[] | undefined;
  onCreated: (taskId: string) => void;
}) {
  const create = useCreateTask();
  const agents = useOrgAgents();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [statusId, setStatusId] = useState("");
  const [assignee, setAssignee] = useState("");
  const [priority, setPriority] = useState<TaskPriority>("none");
  const [labels, setLabels] = useState("");
  const [error, setError] = useState<string>();
  // New tasks start in the first not-yet-started column ("To do"), not the backlog, unless chosen otherwise.
  const initial = statuses.find((s) => s.group === "unstarted") ?? statuses[0];

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    create.mutate(
      {
        title: title.trim(),
        description,
        statusId: statusId || initial?.id,
        assignee: parseAssignee(assignee),
        priority,
        labels: parseLabels(labels),
      },
      {
        onSuccess: (task) => {
          setTitle("");
          setDescription("");
          setLabels("");
          onClose();
          onCreated(task.id);
        },
        onError: (err) => setError(describeError(err)),
      },
    );
  };

  return (
    <Dialog open={open} onClose={onClose} title="New task" className="w-[32rem]">
      <form onSubmit={submit} className="flex flex-col gap-3">
        <Field label="Title" error={error}>
          {(id) => (
            <Input
              id={id}
              value={title}
              onChange={(e) => setTitle(e.target.value)}
              required
              maxLength={200}
              autoFocus
            />
          )}
        </Field>
        <Field label="Description" hint="Markdown">
          {(id) => (
            <textarea
              id={id}
              value={description}
              onChange={(e) => setDescription(e.target.value)}
              rows={5}
              className="w-full rounded-md border border-line bg-surface-0 px-2.5 py-2 text-sm text-neutral-100 focus:border-accent-500 focus:outline-none"
            />
          )}
        </Field>
        <div className="grid grid-cols-3 gap-2">
          <Field label="Status">
            {(id) => (
              <Select id={id} value={statusId || initial?.id} onChange={(e) => setStatusId(e.target.value)}>
                {statuses.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label="Assignee">
            {(id) => (
              <Select id={id} value={assignee} onChange={(e) => setAssignee(e.target.value)}>
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
          <Field label="Priority">
            {(id) => (
              <Select id={id} value={priority} onChange={(e) => setPriority(e.target.value as TaskPriority)}>
                {TASK_PRIORITIES.map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </Select>
            )}
          </Field>
        </div>
        <Field label="Labels" hint="Comma-separated">
          {(id) => <Input id={id} value={labels} onChange={(e) => setLabels(e.target.value)} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button type="button" variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" loading={create.isPending} disabled={!title.trim()}>
            Create task
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
