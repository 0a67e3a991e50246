import {
  LLM_PROVIDER_KINDS,
  type LlmConfiguredModel,
  type LlmProvider,
  type LlmProviderKind,
} from "@kiln/protocol";
import { type FormEvent, useEffect, useState } from "react";
import { describeError } from "../../api/errors.ts";
import { Button } from "../../ui/button.tsx";
import { Dialog } from "../../ui/dialog.tsx";
import { Field, Input, Select } from "../../ui/input.tsx";
import { useSaveProvider } from "./mutations.ts";

const KIND_LABEL: Record<LlmProviderKind, string> = {
  openai: "OpenAI",
  anthropic: "Anthropic",
  openrouter: "OpenRouter",
  ollama: "Ollama",
  "openai-compatible": "OpenAI-compatible",
};

export function kindLabel(kind: LlmProviderKind): string {
  return KIND_LABEL[kind];
}

/** Kinds without a public endpoint: the URL is where the org runs its own. */
const NEEDS_URL = new Set<LlmProviderKind>(["ollama", "openai-compatible"]);

function parseModels(text: string): LlmConfiguredModel[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean)
    .map((id) => ({ id }));
}

/**
 * Add a provider, or change one. The key is write-only: the form never shows it, an empty field keeps the
 * stored one, and removing it is an explicit choice.
 */
export function ProviderDialog({
  org,
  open,
  provider,
  onClose,
}: {
  org: string;
  open: boolean;
  provider: LlmProvider | undefined;
  onClose: () => void;
}) {
  const [name, setName] = useState("");
  const [kind, setKind] = useState<LlmProviderKind>("openai");
  const [baseUrl, setBaseUrl] = useState("");
  const [apiKey, setApiKey] = useState("");
  const [dropKey, setDropKey] = useState(false);
  const [models, setModels] = useState("");
  const [error, setError] = useState<string>();
  const save = useSaveProvider(org);

  useEffect(() => {
    if (!open) return;
    setName(provider?.name ?? "");
    setKind(provider?.kind ?? "openai");
    setBaseUrl(provider?.baseUrl ?? "");
    setApiKey("");
    setDropKey(false);
    setModels(provider?.models.map((m) => m.id).join(", ") ?? "");
    setError(undefined);
  }, [open, provider]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    save.mutate(
      provider
        ? {
            providerId: provider.id,
            body: {
              ...(name !== provider.name ? { name } : {}),
              baseUrl: baseUrl.trim() || null,
              ...(dropKey ? { apiKey: null } : apiKey ? { apiKey } : {}),
              models: parseModels(models),
            },
          }
        : {
            body: {
              name: name.trim(),
              kind,
              ...(baseUrl.trim() ? { baseUrl: baseUrl.trim() } : {}),
              ...(apiKey ? { apiKey } : {}),
              models: parseModels(models),
            },
          },
      { onSuccess: onClose, onError: (err) => setError(describeError(err)) },
    );
  };

  return (
    <Dialog
      open={open}
      onClose={onClose}
      title={provider ? `Edit ${provider.name}` : "Add a model provider"}
      description="Models of this provider are named <name>/<model id> in chats."
    >
      <form onSubmit={submit} className="flex flex-col gap-4">
        <Field label="Name" hint="Lowercase letters, digits and hyphens, e.g. openai or team-ollama.">
          {(id) => (
            <Input id={id} value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
          )}
        </Field>
        <Field label="Kind">
          {(id) => (
            <Select
              id={id}
              value={kind}
              disabled={!!provider}
              onChange={(e) => setKind(e.target.value as LlmProviderKind)}
            >
              {LLM_PROVIDER_KINDS.map((k) => (
                <option key={k} value={k}>
                  {KIND_LABEL[k]}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field
          label={NEEDS_URL.has(kind) ? "Base URL" : "Base URL (optional)"}
          hint={
            NEEDS_URL.has(kind)
              ? "Where the API answers, e.g. http://gpu-box:11434"
              : "Empty: the public endpoint."
          }
        >
          {(id) => (
            <Input
              id={id}
              value={baseUrl}
              onChange={(e) => setBaseUrl(e.target.value)}
              placeholder="https://…"
              required={NEEDS_URL.has(kind)}
            />
          )}
        </Field>
        <Field
          label="API key"
          hint={
            provider?.apiKeyHint
              ? `A key ending ${provider.apiKeyHint} is stored. Leave empty to keep it.`
              : "Stored encrypted; it is never shown again."
          }
        >
          {(id) => (
            <Input
              id={id}
              type="password"
              autoComplete="off"
              value={apiKey}
              disabled={dropKey}
              onChange={(e) => setApiKey(e.target.value)}
              placeholder={provider?.apiKeyHint ? "unchanged" : "sk-…"}
            />
          )}
        </Field>
        {provider?.apiKeyHint && (
          <label className="-mt-2 flex items-center gap-2 text-xs text-neutral-400">
            <input type="checkbox" checked={dropKey} onChange={(e) => setDropKey(e.target.checked)} />
            Remove the stored key
          </label>
        )}
        <Field
          label="Extra models (optional)"
          hint="Model ids to offer besides those the provider lists itself."
        >
          {(id) => (
            <Input
              id={id}
              value={models}
              onChange={(e) => setModels(e.target.value)}
              placeholder="llama3.1:8b, qwen2.5-coder"
            />
          )}
        </Field>
        {error && (
          <p role="alert" className="text-xs text-red-400">
            {error}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" loading={save.isPending} disabled={!name.trim()}>
            {provider ? "Save" : "Add provider"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
