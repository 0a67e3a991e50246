import { WEBHOOK_FAMILIES, type Webhook, type WebhookFamily } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { errorsFromApi } from "../../api/form-errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";
import { relativeTime } from "../projects/time.ts";
import { Section } from "./section.tsx";

const FAMILY_LABEL: Record<WebhookFamily, string> = {
  job: "Agent jobs",
  task: "Board tasks",
  review: "Reviews",
  deployment: "Deployments",
  member: "Members",
};

/**
 * The org's outbound webhooks (admins): add a URL with the event families it wants, see the signing
 * secret once, pause or delete it, and look at its deliveries with the receiver's answers.
 */
export function WebhooksPanel({ org }: { org: string }) {
  const hooks = useQuery({ queryKey: keys.webhooks(org), queryFn: () => api.webhooks.list(org) });
  return (
    <div className="flex flex-col gap-8">
      <Section
        title="Add a webhook"
        description="Kiln POSTs each event as JSON to your URL, signed with a secret (the Kiln-Signature header), and retries failed deliveries with backoff."
      >
        <AddWebhook org={org} />
      </Section>
      <Section title="Webhooks">
        {hooks.isPending ? (
          <LoadingBlock label="Loading webhooks" />
        ) : hooks.isError ? (
          <ErrorState message={describeError(hooks.error)} onRetry={() => hooks.refetch()} />
        ) : hooks.data.length === 0 ? (
          <EmptyState title="No webhooks" description="Add one above to hear about jobs, tasks and more." />
        ) : (
          <ul className="flex flex-col gap-3" aria-label="Webhooks">
            {hooks.data.map((h) => (
              <WebhookRow key={h.id} org={org} hook={h} />
            ))}
          </ul>
        )}
      </Section>
    </div>
  );
}

function AddWebhook({ org }: { org: string }) {
  const qc = useQueryClient();
  const [url, setUrl] = useState("");
  const [families, setFamilies] = useState<WebhookFamily[]>(["job"]);
  const [secret, setSecret] = useState<string>();
  const create = useMutation({
    mutationFn: () => api.webhooks.create(org, { url: url.trim(), families }),
    onSuccess: (made) => {
      setSecret(made.secret);
      setUrl("");
      return qc.invalidateQueries({ queryKey: keys.webhooks(org) });
    },
    meta: { errorToast: false },
  });
  const errors = create.isError ? errorsFromApi(create.error) : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const toggle = (f: WebhookFamily) =>
    setFamilies((now) => (now.includes(f) ? now.filter((x) => x !== f) : [...now, f]));

  return (
    <div className="flex flex-col gap-3">
      <form onSubmit={submit} className="flex flex-col gap-3" aria-label="Add a webhook">
        <Field
          label="Payload URL"
          error={errors?.fields.url ?? (create.isError ? describeError(create.error) : undefined)}
        >
          {(id) => (
            <Input
              id={id}
              type="url"
              placeholder="https://example.com/kiln-events"
              value={url}
              onChange={(e) => setUrl(e.target.value)}
              required
              maxLength={2000}
            />
          )}
        </Field>
        <fieldset className="flex flex-wrap gap-x-4 gap-y-2">
          <legend className="mb-1 text-xs text-neutral-400">Events</legend>
          {WEBHOOK_FAMILIES.map((f) => (
            <label key={f} className="flex items-center gap-1.5 text-sm text-neutral-200">
              <input type="checkbox" checked={families.includes(f)} onChange={() => toggle(f)} />
              {FAMILY_LABEL[f]}
            </label>
          ))}
        </fieldset>
        <div>
          <Button
            type="submit"
            variant="primary"
            size="md"
            loading={create.isPending}
            disabled={!url.trim() || families.length === 0}
          >
            Add webhook
          </Button>
        </div>
      </form>
      {secret && (
        <div className="rounded-md border border-emerald-500/30 bg-emerald-500/10 p-3 text-xs" role="status">
          <p className="text-emerald-200">
            Webhook added. Copy its signing secret now: it is not shown again.
          </p>
          <div className="mt-2 flex gap-2">
            <code
              className="flex-1 overflow-x-auto rounded bg-surface-0 px-2 py-1 font-mono text-[11px] text-neutral-200"
              data-testid="webhook-secret"
            >
              {secret}
            </code>
            <Button
              size="xs"
              onClick={() =>
                void navigator.clipboard?.writeText(secret).then(() => toast.success("Secret copied"))
              }
            >
              Copy
            </Button>
          </div>
        </div>
      )}
    </div>
  );
}

function WebhookRow({ org, hook }: { org: string; hook: Webhook }) {
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const refresh = () => qc.invalidateQueries({ queryKey: keys.webhooks(org) });
  const pause = useMutation({
    mutationFn: () => api.webhooks.update(org, hook.id, { active: !hook.active }),
    onSuccess: refresh,
  });
  const remove = useMutation({ mutationFn: () => api.webhooks.remove(org, hook.id), onSuccess: refresh });
  const confirmRemove = async () => {
    const ok = await confirmDialog({
      title: "Delete this webhook?",
      description: `${hook.url} gets no more events; deliveries still waiting are dropped.`,
      confirmLabel: "Delete webhook",
      danger: true,
    });
    if (ok) remove.mutate();
  };
  return (
    <li className="rounded-lg border border-line">
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2 text-[13px]">
        <span
          className={`size-2 shrink-0 rounded-full ${hook.active ? "bg-emerald-400" : "bg-neutral-500"}`}
          aria-hidden
        />
        <span className="min-w-48 flex-1 truncate font-mono text-[12px] text-neutral-100" title={hook.url}>
          {hook.url}
        </span>
        <span className="text-xs text-neutral-400">
          {hook.families.map((f) => FAMILY_LABEL[f]).join(", ")}
        </span>
        {!hook.active && <span className="text-xs text-amber-300">paused</span>}
        <div className="flex gap-1">
          <Button size="xs" variant="ghost" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
            Deliveries
          </Button>
          <Button size="xs" variant="ghost" loading={pause.isPending} onClick={() => pause.mutate()}>
            {hook.active ? "Pause" : "Resume"}
          </Button>
          <Button size="xs" variant="ghost" onClick={() => void confirmRemove()}>
            Delete
          </Button>
        </div>
      </div>
      {open && <Deliveries org={org} hook={hook} />}
    </li>
  );
}

function Deliveries({ org, hook }: { org: string; hook: Webhook }) {
  const qc = useQueryClient();
  const list = useQuery({
    queryKey: keys.webhookDeliveries(org, hook.id),
    queryFn: () => api.webhooks.deliveries(org, hook.id),
    refetchInterval: 5_000,
  });
  const redeliver = useMutation({
    mutationFn: (delivery: string) => api.webhooks.redeliver(org, hook.id, delivery),
    onSuccess: () => {
      toast.success("Sent again");
      return qc.invalidateQueries({ queryKey: keys.webhookDeliveries(org, hook.id) });
    },
  });
  if (list.isPending) return <LoadingBlock label="Loading deliveries" />;
  if (list.isError) return <ErrorState message={describeError(list.error)} onRetry={() => list.refetch()} />;
  if (list.data.length === 0)
    return <p className="border-t border-line px-3 py-3 text-xs text-neutral-500">No deliveries yet.</p>;
  return (
    <ul className="divide-y divide-line border-t border-line" aria-label={`Deliveries to ${hook.url}`}>
      {list.data.map((d) => (
        <li key={d.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-1.5 text-xs">
          <span
            className={
              d.state === "succeeded"
                ? "text-emerald-300"
                : d.state === "failed"
                  ? "text-red-300"
                  : "text-amber-300"
            }
          >
            {d.state === "pending" ? "retrying" : d.state}
          </span>
          <span className="font-mono text-neutral-200">{d.event}</span>
          <span className="text-neutral-400">
            {d.lastStatus ? `HTTP ${d.lastStatus}` : (d.lastError ?? "not sent yet")}
          </span>
          <span className="text-neutral-500">
            {d.attempts} {d.attempts === 1 ? "try" : "tries"}
          </span>
          <span className="flex-1 text-right text-neutral-500">{relativeTime(d.createdAt)}</span>
          <Button size="xs" variant="ghost" onClick={() => redeliver.mutate(d.id)}>
            Redeliver
          </Button>
        </li>
      ))}
    </ul>
  );
}
