import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Input, Select } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { toast } from "../../ui/toast.tsx";
import { relativeTime } from "../projects/time.ts";
import { useCreateToken, useRevokeToken } from "./mutations.ts";

/** Personal API tokens (they act as the user in every org the user belongs to). */
export function TokensPanel() {
  const tokens = useQuery({ queryKey: keys.tokens, queryFn: api.auth.tokens });
  const [name, setName] = useState("");
  const [days, setDays] = useState("90");
  const createToken = useCreateToken();
  const revokeToken = useRevokeToken();
  const [secret, setSecret] = useState<string>();

  const create = (e: FormEvent) => {
    e.preventDefault();
    createToken.mutate(
      { name: name.trim(), ...(days ? { expiresInDays: Number(days) } : {}) },
      {
        onSuccess: (created) => {
          setSecret(created.token);
          setName("");
        },
      },
    );
  };

  const revoke = (id: string) => {
    if (!window.confirm("Revoke this token? Scripts using it stop working at once.")) return;
    revokeToken.mutate(id);
  };

  return (
    <div className="flex flex-col gap-4">
      <p className="text-xs text-neutral-400">
        Tokens act as you, in every organization you belong to. Send one as{" "}
        <code className="font-mono">Authorization: Bearer …</code>. Use this token with Kiln's MCP endpoint at{" "}
        <code className="font-mono">{window.location.origin}/mcp</code> (Claude Code, Cursor…).
      </p>
      <form onSubmit={create} className="flex flex-wrap items-end gap-2">
        <Input
          aria-label="Token name"
          placeholder="CI deploy"
          value={name}
          onChange={(e) => setName(e.target.value)}
          required
          className="w-auto min-w-56 flex-1"
        />
        <Select aria-label="Expires" value={days} onChange={(e) => setDays(e.target.value)} className="w-36">
          <option value="30">30 days</option>
          <option value="90">90 days</option>
          <option value="365">1 year</option>
          <option value="">Never</option>
        </Select>
        <Button
          type="submit"
          variant="primary"
          size="md"
          loading={createToken.isPending}
          disabled={!name.trim()}
        >
          Create token
        </Button>
      </form>
      {secret && (
        <div className="rounded-md border border-emerald-500/30 bg-emerald-500/10 p-3 text-xs">
          <p className="text-emerald-200">Copy it now: it is not shown again.</p>
          <div className="mt-2 flex gap-2">
            <code className="flex-1 truncate rounded bg-surface-0 px-2 py-1 font-mono text-[11px] text-neutral-200">
              {secret}
            </code>
            <Button
              size="xs"
              onClick={() =>
                void navigator.clipboard?.writeText(secret).then(() => toast.success("Token copied"))
              }
            >
              Copy
            </Button>
          </div>
        </div>
      )}
      {tokens.isPending ? (
        <LoadingBlock label="Loading tokens" />
      ) : tokens.isError ? (
        <ErrorState message={describeError(tokens.error)} onRetry={() => tokens.refetch()} />
      ) : tokens.data.length === 0 ? (
        <EmptyState title="No API tokens" description="Create one to use the Kiln API from scripts." />
      ) : (
        <ul className="divide-y divide-line rounded-lg border border-line">
          {tokens.data.map((t) => (
            <li key={t.id} className="flex items-center gap-3 px-3 py-2 text-[13px]">
              <span className="flex-1 truncate text-neutral-100">{t.name}</span>
              <code className="font-mono text-[11px] text-neutral-500">{t.prefix}…</code>
              <span className="w-32 text-xs text-neutral-500">
                {t.lastUsedAt ? `used ${relativeTime(t.lastUsedAt)}` : "never used"}
              </span>
              <span className="w-36 text-xs text-neutral-500">
                {t.expiresAt ? `expires ${relativeTime(t.expiresAt)}` : "no expiry"}
              </span>
              <Button size="xs" variant="ghost" onClick={() => void revoke(t.id)}>
                Revoke
              </Button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
