import type { Budget, CreateBudgetBody } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useMemo, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { projectsQuery } from "../../api/queries.ts";
import { Button } from "../../ui/button.tsx";
import { cn } from "../../ui/cn.ts";
import { Input, Select } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { budgetFill, budgetTitle, formatBudgetAmount } from "./budget-data.ts";

/**
 * Spend against each budget (ADR 0029): a bar of spent (and held) against the limit with the soft mark; admins
 * add budgets and raise them here.
 */
export function BudgetsPanel({ org, manage }: { org: string; manage: boolean }) {
  const qc = useQueryClient();
  const budgets = useQuery({
    queryKey: keys.budgets(org),
    queryFn: () => api.budgets.list(org),
    refetchInterval: 30_000,
  });
  const projects = useQuery(projectsQuery(org));
  const names = useMemo(() => {
    const byId = new Map(projects.data?.map((p) => [p.id, p.name]));
    return { project: (id: string) => byId.get(id) };
  }, [projects.data]);
  const refresh = () => void qc.invalidateQueries({ queryKey: keys.budgets(org) });
  const raise = useMutation({
    mutationFn: ({ id, limit }: { id: string; limit: number }) => api.budgets.update(org, id, { limit }),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: (id: string) => api.budgets.remove(org, id), onSuccess: refresh });

  if (budgets.isPending) return <LoadingBlock label="Loading budgets" />;
  if (budgets.isError) {
    return <ErrorState message={describeError(budgets.error)} onRetry={() => budgets.refetch()} />;
  }
  return (
    <div className="flex flex-col gap-4">
      {budgets.data.length === 0 ? (
        <p className="text-xs text-neutral-500">
          No budgets: model spend is not capped. {manage ? "Add one below." : "An admin can add one."}
        </p>
      ) : (
        <ul className="flex flex-col gap-3">
          {budgets.data.map((b) => (
            <BudgetRow
              key={b.id}
              budget={b}
              title={budgetTitle(b, names)}
              manage={manage}
              onRaise={(limit) => raise.mutate({ id: b.id, limit })}
              onRemove={() => remove.mutate(b.id)}
            />
          ))}
        </ul>
      )}
      {(raise.error || remove.error) && (
        <p role="alert" className="text-xs text-red-400">
          {describeError(raise.error ?? remove.error)}
        </p>
      )}
      {manage && <AddBudget org={org} projects={projects.data ?? []} onAdded={refresh} />}
    </div>
  );
}

function BudgetRow({
  budget: b,
  title,
  manage,
  onRaise,
  onRemove,
}: {
  budget: Budget;
  title: string;
  manage: boolean;
  onRaise: (limit: number) => void;
  onRemove: () => void;
}) {
  const [limit, setLimit] = useState("");
  const fill = budgetFill(b);
  const label = `${formatBudgetAmount(b.unit, b.spent)} of ${formatBudgetAmount(b.unit, b.limit)}`;
  return (
    <li className="flex flex-col gap-1.5" aria-label={`${title}: ${label}`}>
      <div className="flex flex-wrap items-baseline justify-between gap-2 text-xs">
        <span className="text-neutral-200">{title}</span>
        <span
          className={cn(
            "font-mono",
            fill.full ? "text-red-400" : fill.soft ? "text-amber-400" : "text-neutral-400",
          )}
        >
          {label}
          {b.period === "run" && b.periodKey ? " (latest run)" : ""}
        </span>
      </div>
      <div className="relative h-2 overflow-hidden rounded bg-surface-3" role="presentation">
        <div
          className={cn(
            "absolute inset-y-0 left-0",
            fill.full ? "bg-red-500" : fill.soft ? "bg-amber-500" : "bg-accent-500",
          )}
          style={{ width: `${fill.spent * 100}%` }}
        />
        <div
          className="absolute inset-y-0 bg-neutral-500/60"
          style={{ left: `${fill.spent * 100}%`, width: `${fill.held * 100}%` }}
        />
        <div
          className="absolute inset-y-0 w-px bg-neutral-200/70"
          style={{ left: `${b.softFraction * 100}%` }}
          title={`Admins are mailed at ${Math.round(b.softFraction * 100)}%`}
        />
      </div>
      {manage && (
        <form
          className="mt-1 flex items-center gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            if (Number(limit) > 0) onRaise(Number(limit));
            setLimit("");
          }}
        >
          <Input
            aria-label={`New limit for ${title}`}
            className="w-36"
            type="number"
            min="0"
            step="any"
            placeholder={String(b.limit)}
            value={limit}
            onChange={(e) => setLimit(e.target.value)}
          />
          <Button type="submit" size="md" disabled={!(Number(limit) > 0)}>
            Set limit
          </Button>
          <Button size="md" variant="ghost" onClick={onRemove}>
            Delete
          </Button>
        </form>
      )}
    </li>
  );
}

function AddBudget({
  org,
  projects,
  onAdded,
}: {
  org: string;
  projects: Array<{ id: string; name: string }>;
  onAdded: () => void;
}) {
  const [form, setForm] = useState({ scope: "org", scopeId: "", period: "monthly", unit: "usd", limit: "" });
  const add = useMutation({
    mutationFn: (body: CreateBudgetBody) => api.budgets.create(org, body),
    onSuccess: () => {
      setForm((f) => ({ ...f, scopeId: "", limit: "" }));
      onAdded();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    add.mutate({
      scope: form.scope as CreateBudgetBody["scope"],
      ...(form.scope === "org" ? {} : { scopeId: form.scopeId.trim() }),
      period: form.period as CreateBudgetBody["period"],
      unit: form.unit as CreateBudgetBody["unit"],
      limit: Number(form.limit),
    });
  };
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [k]: e.target.value }));
  return (
    <form
      onSubmit={submit}
      className="flex flex-wrap items-end gap-2 border-t border-line pt-3"
      aria-label="Add a budget"
    >
      <Select aria-label="Scope" className="w-28" value={form.scope} onChange={set("scope")}>
        <option value="org">Org</option>
        <option value="project">Project</option>
        <option value="user">Member</option>
        <option value="task">Task</option>
      </Select>
      {form.scope === "project" ? (
        <Select aria-label="Project" className="w-44" value={form.scopeId} onChange={set("scopeId")}>
          <option value="">Choose a project</option>
          {projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </Select>
      ) : form.scope !== "org" ? (
        <Input
          aria-label={`${form.scope} id`}
          className="w-72"
          placeholder={`The ${form.scope}'s id`}
          value={form.scopeId}
          onChange={set("scopeId")}
        />
      ) : null}
      <Select aria-label="Period" className="w-36" value={form.period} onChange={set("period")}>
        <option value="monthly">Per month</option>
        <option value="run">Per run</option>
      </Select>
      <Select aria-label="Unit" className="w-24" value={form.unit} onChange={set("unit")}>
        <option value="usd">USD</option>
        <option value="tokens">Tokens</option>
      </Select>
      <Input
        aria-label="Limit"
        className="w-32"
        type="number"
        min="0"
        step="any"
        placeholder="Limit"
        value={form.limit}
        onChange={set("limit")}
      />
      <Button
        type="submit"
        size="md"
        variant="primary"
        loading={add.isPending}
        disabled={!(Number(form.limit) > 0)}
      >
        Add budget
      </Button>
      {add.error && (
        <p role="alert" className="w-full text-xs text-red-400">
          {describeError(add.error)}
        </p>
      )}
    </form>
  );
}
