import {
  AUTOMATION_JOB_KINDS,
  type AutomationAction,
  type AutomationJobKind,
  type AutomationRule,
  type AutomationTrigger,
  CreateRuleBody,
  MAX_RULE_ACTIONS,
  type Member,
  TASK_PRIORITIES,
  type WorkflowStatus,
} from "@kiln/protocol";
import { type FormEvent, type ReactNode, useEffect, useId, useState } from "react";
import { errorsFromApi, type FormErrors, issuesToErrors } from "../../api/form-errors.ts";
import { Button, IconButton } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { CloseIcon, PlusIcon } from "../../ui/icons.tsx";
import { Field, Input, Select } from "../../ui/input.tsx";
import { AgentOptions, useOrgAgents } from "./agent-options.tsx";
import { useSaveRule } from "./mutations.ts";
import {
  ACTION_LABELS,
  type ActionDraft,
  draftFromRule,
  draftToBody,
  emptyAction,
  emptyDraft,
  type RuleDraft,
  TRIGGER_LABELS,
} from "./rule-draft.ts";

const textarea =
  "w-full rounded-md border border-line bg-surface-0 px-2.5 py-2 text-sm text-neutral-100 focus:border-accent-500 focus:outline-none";

/** Creates a rule (`rule` absent) or edits one: trigger, conditions, actions in order. */
export function RuleDialog({
  open,
  rule,
  statuses,
  members,
  onClose,
}: {
  open: boolean;
  rule: AutomationRule | null;
  statuses: readonly WorkflowStatus[];
  members: readonly Member[] | undefined;
  onClose: () => void;
}) {
  const save = useSaveRule();
  const [draft, setDraft] = useState<RuleDraft>(emptyDraft);
  const [errors, setErrors] = useState<FormErrors>({ fields: {} });

  // Filled once per opening: a refetch of the rules while the dialog is open must not wipe what was typed.
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed on the rule's id, not its object
  useEffect(() => {
    if (!open) return;
    setDraft(rule ? draftFromRule(rule) : emptyDraft());
    setErrors({ fields: {} });
  }, [open, rule?.id]);

  // Editing a part takes its complaint away.
  const forget = (keys: string[]) =>
    setErrors((e) =>
      keys.some((k) => e.fields[k])
        ? { ...e, fields: Object.fromEntries(Object.entries(e.fields).filter(([k]) => !keys.includes(k))) }
        : e,
    );
  const set = (patch: Partial<RuleDraft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    forget(Object.keys(patch));
  };
  const setAction = (i: number, patch: Partial<ActionDraft>) => {
    setDraft((d) => ({ ...d, actions: d.actions.map((a, j) => (j === i ? { ...a, ...patch } : a)) }));
    forget([`actions.${i}`]);
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    // Depth 2 keeps each action's message beside that action ("actions.1").
    const checked = CreateRuleBody.safeParse(draftToBody(draft));
    if (!checked.success) return setErrors(plainer(issuesToErrors(checked.error.issues, 2), draft));
    setErrors({ fields: {} });
    save.mutate(
      { ...(rule ? { ruleId: rule.id } : {}), body: checked.data },
      { onSuccess: onClose, onError: (err) => setErrors(errorsFromApi(err, 2)) },
    );
  };

  const f = errors.fields;
  const conditionsError = Object.entries(f).find(([k]) => k.startsWith("conditions"))?.[1];
  // Whatever no field below shows (the trigger's status, say) is said with the form's own error.
  const shownHere = (k: string) => k === "name" || /^actions(\.\d+)?$/.test(k) || k.startsWith("conditions");
  const formError = [
    errors.form,
    ...Object.entries(f).flatMap(([k, m]) => (shownHere(k) ? [] : [`${k}: ${m}`])),
  ]
    .filter(Boolean)
    .join(" ");
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={rule ? "Edit automation rule" : "New automation rule"}
      className="w-[min(40rem,calc(100vw-1rem))]"
    >
      <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
        <div className="flex flex-wrap items-end gap-3">
          <div className="min-w-48 flex-1">
            <Field label="Rule name" error={f.name}>
              {(id) => (
                <Input
                  id={id}
                  value={draft.name}
                  onChange={(e) => set({ name: e.target.value })}
                  aria-invalid={!!f.name}
                  placeholder="Implement agent tasks"
                  autoFocus
                />
              )}
            </Field>
          </div>
          <label className="flex h-9 items-center gap-2 text-xs text-neutral-300">
            <input
              type="checkbox"
              checked={draft.enabled}
              onChange={(e) => set({ enabled: e.target.checked })}
              className="size-4 accent-accent-500"
            />
            Enabled
          </label>
        </div>

        <Group title="When">
          <div className="grid grid-cols-1 gap-2 sm:grid-cols-2">
            <Field label="Trigger">
              {(id) => (
                <Select
                  id={id}
                  value={draft.trigger}
                  onChange={(e) => set({ trigger: e.target.value as AutomationTrigger["type"] })}
                >
                  {Object.entries(TRIGGER_LABELS).map(([value, label]) => (
                    <option key={value} value={value}>
                      {label}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
            {draft.trigger === "task_moved" && (
              <Field label="To status">
                {(id) => (
                  <Select id={id} value={draft.toStatus} onChange={(e) => set({ toStatus: e.target.value })}>
                    <option value="">Any status</option>
                    {statuses.map((s) => (
                      <option key={s.id} value={s.id}>
                        {s.name}
                      </option>
                    ))}
                  </Select>
                )}
              </Field>
            )}
          </div>
        </Group>

        <Group title="Only if" hint="Every condition given must hold; leave them empty for every task.">
          <div className="grid grid-cols-1 gap-2 sm:grid-cols-2">
            <Field label="Labels include" hint="Comma-separated; all of them">
              {(id) => (
                <Input id={id} value={draft.labels} onChange={(e) => set({ labels: e.target.value })} />
              )}
            </Field>
            <Field label="Assigned to">
              {(id) => (
                <Select
                  id={id}
                  value={draft.assigneeType}
                  onChange={(e) => set({ assigneeType: e.target.value as RuleDraft["assigneeType"] })}
                >
                  <option value="">Anyone or nobody</option>
                  <option value="agent">The agent</option>
                  <option value="member">A member</option>
                  <option value="none">Nobody</option>
                </Select>
              )}
            </Field>
          </div>
          <fieldset className="flex flex-col gap-1.5">
            <legend className="mb-1.5 text-xs font-medium text-neutral-300">Priority is one of</legend>
            <div className="flex flex-wrap gap-x-3 gap-y-1">
              {TASK_PRIORITIES.map((p) => (
                <label key={p} className="flex items-center gap-1.5 text-xs text-neutral-300">
                  <input
                    type="checkbox"
                    className="size-3.5 accent-accent-500"
                    checked={draft.priorities.includes(p)}
                    onChange={(e) =>
                      set({
                        priorities: e.target.checked
                          ? TASK_PRIORITIES.filter((x) => x === p || draft.priorities.includes(x))
                          : draft.priorities.filter((x) => x !== p),
                      })
                    }
                  />
                  {p === "none" ? "No priority" : p}
                </label>
              ))}
            </div>
          </fieldset>
          <fieldset className="flex flex-col gap-1.5">
            <legend className="mb-1.5 text-xs font-medium text-neutral-300">Status is one of</legend>
            <div className="flex flex-wrap gap-x-3 gap-y-1">
              {statuses.map((s) => (
                <label key={s.id} className="flex items-center gap-1.5 text-xs text-neutral-300">
                  <input
                    type="checkbox"
                    className="size-3.5 accent-accent-500"
                    checked={draft.statusIn.includes(s.id)}
                    onChange={(e) =>
                      set({
                        statusIn: e.target.checked
                          ? statuses.map((x) => x.id).filter((x) => x === s.id || draft.statusIn.includes(x))
                          : draft.statusIn.filter((x) => x !== s.id),
                      })
                    }
                  />
                  {s.name}
                </label>
              ))}
            </div>
          </fieldset>
          {conditionsError && (
            <p role="alert" className="text-xs text-red-400">
              {conditionsError}
            </p>
          )}
        </Group>

        <Group title="Then" hint="The actions run in this order.">
          <ol className="flex flex-col gap-2">
            {draft.actions.map((action, i) => (
              <ActionEditor
                // biome-ignore lint/suspicious/noArrayIndexKey: actions are edited in place, by position
                key={i}
                index={i}
                action={action}
                statuses={statuses}
                members={members}
                error={f[`actions.${i}`]}
                onChange={(patch) => setAction(i, patch)}
                onRemove={
                  draft.actions.length > 1
                    ? () => set({ actions: draft.actions.filter((_, j) => j !== i) })
                    : undefined
                }
              />
            ))}
          </ol>
          {f.actions && (
            <p role="alert" className="text-xs text-red-400">
              {f.actions}
            </p>
          )}
          {draft.actions.length < MAX_RULE_ACTIONS && (
            <Button
              size="xs"
              variant="ghost"
              className="self-start"
              icon={<PlusIcon className="size-3" />}
              onClick={() => set({ actions: [...draft.actions, emptyAction("comment")] })}
            >
              Add an action
            </Button>
          )}
        </Group>

        {formError && (
          <p role="alert" className="text-xs text-red-400">
            {formError}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button variant="ghost" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" variant="primary" loading={save.isPending}>
            {rule ? "Save rule" : "Add rule"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** The schema's words where a person would put it otherwise. */
function plainer(errors: FormErrors, draft: RuleDraft): FormErrors {
  const fields = { ...errors.fields };
  if (fields.name && !draft.name.trim()) fields.name = "Give the rule a name.";
  draft.actions.forEach((a, i) => {
    const key = `actions.${i}`;
    if (!fields[key]) return;
    if (a.type === "move" && !a.statusId) fields[key] = "Pick the status to move the task to.";
    if (a.type === "comment" && !a.text.trim()) fields[key] = "Write the comment.";
  });
  return { ...errors, fields };
}

function Group({ title, hint, children }: { title: string; hint?: string; children: ReactNode }) {
  return (
    <fieldset className="flex flex-col gap-2 rounded-md border border-line p-3">
      <legend className="px-1 text-xs font-medium tracking-wide text-neutral-400 uppercase">{title}</legend>
      {hint && <p className="-mt-1 text-[11px] text-neutral-500">{hint}</p>}
      {children}
    </fieldset>
  );
}

function ActionEditor({
  index,
  action,
  statuses,
  members,
  error,
  onChange,
  onRemove,
}: {
  index: number;
  action: ActionDraft;
  statuses: readonly WorkflowStatus[];
  members: readonly Member[] | undefined;
  error: string | undefined;
  onChange: (patch: Partial<ActionDraft>) => void;
  onRemove: (() => void) | undefined;
}) {
  const id = useId();
  const agents = useOrgAgents();
  const n = index + 1;
  return (
    <li
      aria-label={`Action ${n}`}
      className="flex flex-col gap-2 rounded-md border border-line bg-surface-2 p-2"
      data-testid="rule-action"
    >
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-mono text-[11px] text-neutral-500">{n}.</span>
        <Select
          aria-label={`Action ${n} type`}
          className="h-8 w-auto flex-1 text-xs"
          value={action.type}
          onChange={(e) => onChange({ type: e.target.value as AutomationAction["type"] })}
        >
          {Object.entries(ACTION_LABELS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </Select>
        {action.type === "start_job" && (
          <Select
            aria-label={`Action ${n} job kind`}
            className="h-8 w-auto text-xs"
            value={action.kind}
            onChange={(e) => onChange({ kind: e.target.value as AutomationJobKind })}
          >
            {AUTOMATION_JOB_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </Select>
        )}
        {action.type === "start_job" && (
          <Select
            aria-label={`Action ${n} agent`}
            className="h-8 w-auto text-xs"
            value={action.jobAgent}
            onChange={(e) => onChange({ jobAgent: e.target.value })}
          >
            <option value="">The task's agent</option>
            <AgentOptions agents={agents} current={action.jobAgent} />
          </Select>
        )}
        {action.type === "move" && (
          <Select
            aria-label={`Action ${n} status`}
            className="h-8 w-auto text-xs"
            value={action.statusId}
            onChange={(e) => onChange({ statusId: e.target.value })}
          >
            <option value="">Pick a status</option>
            {statuses.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </Select>
        )}
        {action.type === "assign" && (
          <Select
            aria-label={`Action ${n} assignee`}
            className="h-8 w-auto text-xs"
            value={action.assignee}
            onChange={(e) => onChange({ assignee: e.target.value })}
          >
            <option value="">Nobody (unassign)</option>
            <AgentOptions agents={agents} current={action.assignee} prefix="Agent: " />
            {members?.map((m) => (
              <option key={m.userId} value={`member:${m.userId}`}>
                {m.name || m.email}
              </option>
            ))}
          </Select>
        )}
        {onRemove && (
          <IconButton label={`Remove action ${n}`} onClick={onRemove}>
            <CloseIcon className="size-3" />
          </IconButton>
        )}
      </div>
      {action.type === "start_job" && (
        <textarea
          id={`${id}-instructions`}
          aria-label={`Action ${n} instructions`}
          value={action.instructions}
          onChange={(e) => onChange({ instructions: e.target.value })}
          rows={2}
          placeholder="Extra instructions for the agent (optional, markdown)"
          className={textarea}
        />
      )}
      {action.type === "comment" && (
        <textarea
          id={`${id}-text`}
          aria-label={`Action ${n} comment`}
          value={action.text}
          onChange={(e) => onChange({ text: e.target.value })}
          aria-invalid={!!error}
          rows={2}
          placeholder="The comment (markdown)"
          className={textarea}
        />
      )}
      {error && (
        <p role="alert" className="text-xs text-red-400">
          {error}
        </p>
      )}
    </li>
  );
}
