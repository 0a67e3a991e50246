import type { LlmProvider, Role } from "@kiln/protocol";
import { can } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { modelsQuery } from "../../api/queries.ts";
import { Button } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { PlusIcon } from "../../ui/icons.tsx";
import { Select } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { useRemoveProvider, useSetDefaultModel } from "./mutations.ts";
import { PricesPanel } from "./prices-panel.tsx";
import { kindLabel, ProviderDialog } from "./provider-dialog.tsx";
import { Section } from "./section.tsx";

/** Where the org's agent gets its models: the default model, the org's providers, and prices. */
export function ModelsPanel({ org, role }: { org: string; role: Role }) {
  const manage = can(role, "llm.manage");
  const setDefaultModel = useSetDefaultModel(org);
  const removeProvider = useRemoveProvider(org);
  const models = useQuery(modelsQuery(org));
  const settings = useQuery({ queryKey: keys.llmSettings(org), queryFn: () => api.llm.settings(org) });
  const providers = useQuery({
    queryKey: keys.llmProviders(org),
    queryFn: () => api.llm.providers(org),
  });
  const [editing, setEditing] = useState<{ provider?: LlmProvider } | null>(null);
  const setDefault = (ref: string) => setDefaultModel.mutate(ref);

  const remove = async (p: LlmProvider) => {
    const ok = await confirmDialog({
      title: `Remove ${p.name}?`,
      description: `Its key is deleted and chats using ${p.name}/… models stop working until they pick another.`,
      confirmLabel: "Remove provider",
      danger: true,
    });
    if (ok) removeProvider.mutate(p.id);
  };

  if (providers.isPending || settings.isPending) return <LoadingBlock label="Loading model settings" />;
  if (providers.isError || settings.isError) {
    return (
      <ErrorState
        message={describeError(providers.error ?? settings.error)}
        onRetry={() => {
          void providers.refetch();
          void settings.refetch();
        }}
      />
    );
  }
  const instance = models.data?.providers.filter((p) => p.source === "instance") ?? [];
  const listErrors = new Map(models.data?.providers.map((p) => [`${p.source}:${p.name}`, p.listError]));

  return (
    <div className="flex flex-col gap-8">
      <Section title="Default model" description="Chats that name no model of their own use this one.">
        <Select
          aria-label="Default model"
          value={settings.data.defaultModel ?? ""}
          disabled={!manage || !models.data}
          onChange={(e) => void setDefault(e.target.value)}
          className="max-w-md font-mono text-xs"
        >
          <option value="">
            Instance default
            {settings.data.effectiveDefaultModel && !settings.data.defaultModel
              ? ` (${settings.data.effectiveDefaultModel})`
              : ""}
          </option>
          {settings.data.defaultModel &&
            !models.data?.models.some((m) => m.ref === settings.data.defaultModel) && (
              <option value={settings.data.defaultModel}>{settings.data.defaultModel}</option>
            )}
          {models.data?.models.map((m) => (
            <option key={m.ref} value={m.ref}>
              {m.ref}
            </option>
          ))}
        </Select>
      </Section>

      <Section
        title="Model providers"
        description="API keys are stored encrypted and never shown again; only their ends are, to tell them apart."
        action={
          manage && (
            <Button variant="primary" icon={<PlusIcon className="size-3.5" />} onClick={() => setEditing({})}>
              Add provider
            </Button>
          )
        }
      >
        <div className="overflow-hidden rounded-lg border border-line">
          <table className="w-full text-left text-[13px]">
            <thead className="bg-surface-2 text-xs text-neutral-400">
              <tr>
                <th className="px-3 py-2 font-medium">Provider</th>
                <th className="px-3 py-2 font-medium">Endpoint</th>
                <th className="px-3 py-2 font-medium">Key</th>
                <th className="w-32 px-3 py-2" />
              </tr>
            </thead>
            <tbody>
              {providers.data.map((p) => (
                <tr key={p.id} className="border-t border-line align-top" data-provider={p.name}>
                  <td className="px-3 py-2">
                    <div className="font-mono text-neutral-100">{p.name}</div>
                    <div className="text-xs text-neutral-500">
                      {kindLabel(p.kind)}
                      {p.models.length > 0 && ` · ${p.models.map((m) => m.id).join(", ")}`}
                    </div>
                    <ListError text={listErrors.get(`org:${p.name}`)} />
                  </td>
                  <td className="px-3 py-2 font-mono text-xs text-neutral-400">{p.baseUrl ?? "public"}</td>
                  <td className="px-3 py-2 font-mono text-xs text-neutral-400">
                    {p.apiKeyHint ?? <span className="text-neutral-600">none</span>}
                  </td>
                  <td className="px-3 py-2 text-right whitespace-nowrap">
                    {manage && (
                      <>
                        <Button size="xs" variant="ghost" onClick={() => setEditing({ provider: p })}>
                          Edit
                        </Button>
                        <Button size="xs" variant="ghost" onClick={() => void remove(p)}>
                          Remove
                        </Button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
              {instance.map((p) => (
                <tr key={`instance:${p.name}`} className="border-t border-line align-top">
                  <td className="px-3 py-2">
                    <div className="font-mono text-neutral-100">{p.name}</div>
                    <div className="text-xs text-neutral-500">{kindLabel(p.kind)}</div>
                    <ListError text={p.listError} />
                  </td>
                  <td className="px-3 py-2 text-xs text-neutral-500" colSpan={3}>
                    Set up on the server for every org
                  </td>
                </tr>
              ))}
              {providers.data.length === 0 && instance.length === 0 && (
                <tr>
                  <td colSpan={4} className="px-3 py-6 text-center text-xs text-neutral-500">
                    No providers yet. Add one to give the agent a model.
                  </td>
                </tr>
              )}
            </tbody>
          </table>
        </div>
      </Section>

      <PricesPanel org={org} manage={manage} />

      <ProviderDialog
        org={org}
        open={editing !== null}
        provider={editing?.provider}
        onClose={() => setEditing(null)}
      />
    </div>
  );
}

function ListError({ text }: { text: string | null | undefined }) {
  if (!text) return null;
  return <div className="mt-0.5 text-[11px] text-amber-300/80">Could not list its models: {text}</div>;
}
