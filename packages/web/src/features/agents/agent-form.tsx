import {
  AGENT_DESCRIPTION_MAX,
  AGENT_PROMPT_MAX,
  AGENT_STEP_LIMIT_MAX,
  AGENT_TOOL_NAMES,
  type ApprovalMode,
  type LlmModelList,
  type McpServer,
} from "@kiln/protocol";
import { type FormEvent, useState } from "react";
import type { FormErrors } from "../../api/form-errors.ts";
import { Button } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { Field, Input, Select } from "../../ui/input.tsx";
import { type AgentDraft, MODE_LABELS, TOOL_DESCRIPTIONS } from "./tools.ts";

const textarea =
  "w-full rounded-md border border-line bg-surface-0 px-2.5 py-2 text-sm text-neutral-100 placeholder:text-neutral-500 focus:border-accent-500 focus:outline-none focus-visible:outline-none disabled:opacity-60";

/**
 * An agent's definition as a form: read-only for the built-in agent and for roles that cannot manage agents.
 * The server's field errors show under their fields.
 */
export function AgentForm({
  initial,
  readOnly,
  models,
  servers,
  errors,
  pending,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial: AgentDraft;
  readOnly: boolean;
  models: LlmModelList | undefined;
  /** The org's MCP servers the agent may be given (ADR 0039). */
  servers?: McpServer[] | undefined;
  errors: FormErrors | undefined;
  pending: boolean;
  submitLabel: string;
  onSubmit: (draft: AgentDraft) => void;
  onCancel: () => void;
}) {
  const [d, setD] = useState(initial);
  const set = <K extends keyof AgentDraft>(key: K, value: AgentDraft[K]) =>
    setD((s) => ({ ...s, [key]: value }));
  const err = (field: string) => errors?.fields[field];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    onSubmit(d);
  };
  const known = new Set(models?.models.map((m) => m.ref));
  return (
    <form onSubmit={submit} aria-label="Agent" className="grid gap-4 sm:grid-cols-[5rem_1fr]">
      <Field label="Icon" error={err("icon")}>
        {(id) => (
          <Input
            id={id}
            value={d.icon}
            disabled={readOnly}
            onChange={(e) => set("icon", e.target.value)}
            maxLength={32}
            className="text-center"
          />
        )}
      </Field>
      <Field label="Name" error={err("name")}>
        {(id) => (
          <Input
            id={id}
            value={d.name}
            disabled={readOnly}
            onChange={(e) => set("name", e.target.value)}
            required
            maxLength={100}
            placeholder="Copy editor"
          />
        )}
      </Field>
      <div className="sm:col-span-2">
        <Field label="Description" error={err("description")}>
          {(id) => (
            <Input
              id={id}
              value={d.description}
              disabled={readOnly}
              onChange={(e) => set("description", e.target.value)}
              maxLength={AGENT_DESCRIPTION_MAX}
              placeholder="What it is for, shown when picking an agent"
            />
          )}
        </Field>
      </div>
      <div className="sm:col-span-2">
        <Field
          label="System prompt"
          error={err("systemPrompt")}
          hint={
            <span className={cn(d.systemPrompt.length > AGENT_PROMPT_MAX && "text-red-400")}>
              {d.systemPrompt.length.toLocaleString("en")} / {AGENT_PROMPT_MAX.toLocaleString("en")}{" "}
              characters · the project's KILN.md guide is added after it
            </span>
          }
        >
          {(id) => (
            <textarea
              id={id}
              value={d.systemPrompt}
              disabled={readOnly}
              onChange={(e) => set("systemPrompt", e.target.value)}
              // Read-only, it is as tall as its text (up to a screenful); editable, room to write.
              rows={readOnly ? Math.min(16, Math.max(3, d.systemPrompt.split("\n").length + 1)) : 10}
              className={cn(textarea, "font-mono text-[12px] leading-relaxed")}
              placeholder="You are a careful copy editor…"
            />
          )}
        </Field>
      </div>
      <fieldset className="sm:col-span-2" aria-describedby="agent-tools-hint">
        <legend className="mb-1.5 text-xs font-medium text-neutral-300">Allowed tools</legend>
        <ul className="grid gap-x-4 gap-y-1 sm:grid-cols-2" aria-label="Allowed tools">
          {AGENT_TOOL_NAMES.map((t) => (
            <li key={t}>
              <label className="flex items-baseline gap-2 rounded px-1 py-0.5 text-[13px] hover:bg-tint/4">
                <input
                  type="checkbox"
                  name={t}
                  checked={d.tools.includes(t)}
                  disabled={readOnly}
                  onChange={(e) =>
                    set(
                      "tools",
                      e.target.checked
                        ? AGENT_TOOL_NAMES.filter((x) => x === t || d.tools.includes(x))
                        : d.tools.filter((x) => x !== t),
                    )
                  }
                  className="translate-y-0.5 accent-accent-500"
                />
                <span className="font-mono text-neutral-100">{t}</span>
                <span className="min-w-0 truncate text-xs text-neutral-500">{TOOL_DESCRIPTIONS[t]}</span>
              </label>
            </li>
          ))}
        </ul>
        {err("tools") ? (
          <p role="alert" className="mt-1 text-xs text-red-400">
            {err("tools")}
          </p>
        ) : (
          <p id="agent-tools-hint" className="mt-1 text-xs text-neutral-500">
            {d.tools.length} of {AGENT_TOOL_NAMES.length} · a call to any other tool is refused and does not
            run. Plan mode leaves out the ones that change files.
          </p>
        )}
      </fieldset>
      {servers && servers.length > 0 && (
        <fieldset className="sm:col-span-2">
          <legend className="mb-1 text-[13px] font-medium text-neutral-200">MCP servers</legend>
          <ul className="flex flex-wrap gap-x-4 gap-y-1" aria-label="MCP servers">
            {servers.map((s) => (
              <li key={s.id}>
                <label className="flex items-center gap-2 text-[13px]">
                  <input
                    type="checkbox"
                    checked={d.mcpServers.includes(s.id)}
                    disabled={readOnly}
                    onChange={(e) =>
                      set(
                        "mcpServers",
                        e.target.checked ? [...d.mcpServers, s.id] : d.mcpServers.filter((x) => x !== s.id),
                      )
                    }
                    className="accent-accent-500"
                  />
                  <span className="font-mono text-neutral-100">{s.name}</span>
                </label>
              </li>
            ))}
          </ul>
          <p className="mt-1 text-xs text-neutral-500">
            {err("mcpServers") ??
              "Their tools are offered as mcp__<server>__<tool>; each call counts as a change."}
          </p>
        </fieldset>
      )}
      <div className="grid gap-4 sm:col-span-2 sm:grid-cols-3">
        <Field label="Default model" error={err("defaultModel")} hint="For chats that pick none">
          {(id) => (
            <Select
              id={id}
              value={d.defaultModel}
              disabled={readOnly}
              onChange={(e) => set("defaultModel", e.target.value)}
              className="font-mono text-[13px]"
            >
              <option value="">
                {models?.defaultModel ? `Org default (${models.defaultModel})` : "Org default"}
              </option>
              {d.defaultModel && !known.has(d.defaultModel) && (
                <option value={d.defaultModel}>{d.defaultModel}</option>
              )}
              {models?.models.map((m) => (
                <option key={m.ref} value={m.ref}>
                  {m.ref}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Default mode" error={err("defaultMode")} hint="For new chats">
          {(id) => (
            <Select
              id={id}
              value={d.defaultMode}
              disabled={readOnly}
              onChange={(e) => set("defaultMode", e.target.value as ApprovalMode | "")}
            >
              <option value="">Allow (the usual)</option>
              {(Object.keys(MODE_LABELS) as ApprovalMode[]).map((m) => (
                <option key={m} value={m}>
                  {MODE_LABELS[m]}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field
          label="Step limit"
          error={err("stepLimit")}
          hint={`Model calls per turn, 1–${AGENT_STEP_LIMIT_MAX}; empty: the server's`}
        >
          {(id) => (
            <Input
              id={id}
              type="number"
              inputMode="numeric"
              min={1}
              max={AGENT_STEP_LIMIT_MAX}
              value={d.stepLimit}
              disabled={readOnly}
              onChange={(e) => set("stepLimit", e.target.value)}
              placeholder="Server's"
            />
          )}
        </Field>
      </div>
      {errors?.form && (
        <p role="alert" className="text-xs text-red-400 sm:col-span-2">
          {errors.form}
        </p>
      )}
      <div className="flex gap-2 sm:col-span-2">
        {!readOnly && (
          <Button type="submit" variant="primary" size="md" loading={pending}>
            {submitLabel}
          </Button>
        )}
        <Button size="md" variant="ghost" onClick={onCancel}>
          {readOnly ? "Back" : "Cancel"}
        </Button>
      </div>
    </form>
  );
}
