import type { GitHostKind, Role } from "@kiln/protocol";
import { can, GIT_HOST_LABELS } from "@kiln/protocol";
import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Field, Input, Select } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { useConnectGitHost, useRemoveGitHost } from "./mutations.ts";
import { Section } from "./section.tsx";

const API_PLACEHOLDER: Record<GitHostKind, string> = {
  github: "https://api.github.com",
  gitlab: "https://gitlab.com/api/v4",
  gitea: "https://gitea.example.com/api/v1",
};

/**
 * Connected git hosts (ADR 0028): an org's GitHub, GitLab or Gitea account. Projects create repositories
 * there, push and pull with its token and open pull requests; the token is checked when connected and
 * never shown again.
 */
export function GitHostsPanel({ org, role }: { org: string; role: Role }) {
  const hosts = useQuery({ queryKey: keys.gitHosts(org), queryFn: () => api.gitHosts.list(org) });
  const remove = useRemoveGitHost(org);
  const manage = can(role, "gitHosts.manage");
  return (
    <div className="flex flex-col gap-8">
      <Section
        title="Git hosts"
        description="GitHub, GitLab or Gitea accounts this organization's projects push to, pull from and open pull requests on."
      >
        {hosts.isPending ? (
          <LoadingBlock label="Loading git hosts" />
        ) : hosts.isError ? (
          <ErrorState message={describeError(hosts.error)} onRetry={() => hosts.refetch()} />
        ) : hosts.data.length === 0 ? (
          <EmptyState
            title="No git hosts"
            description="Projects can still link a repository by URL with a token per action. Connect an account to save it."
          />
        ) : (
          <ul className="divide-y divide-line rounded-lg border border-line" aria-label="Git hosts">
            {hosts.data.map((h) => (
              <li key={h.id} className="flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2 text-[13px]">
                <span className="min-w-40 flex-1 truncate text-neutral-100">{h.name}</span>
                <span className="rounded bg-surface-2 px-1.5 py-0.5 text-[11px] text-neutral-300">
                  {GIT_HOST_LABELS[h.kind]}
                </span>
                <span className="text-xs text-neutral-400">as {h.login}</span>
                <span className="font-mono text-[11px] text-neutral-500" title="The end of the token">
                  token {h.tokenHint}
                </span>
                {manage && (
                  <Button
                    size="xs"
                    variant="ghost"
                    aria-label={`Remove ${h.name}`}
                    loading={remove.isPending && remove.variables === h.id}
                    onClick={() => {
                      if (window.confirm(`Remove "${h.name}" and its token? Linked projects keep their URL.`))
                        remove.mutate(h.id);
                    }}
                  >
                    Remove
                  </Button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Section>
      {manage && <ConnectHost org={org} />}
    </div>
  );
}

function ConnectHost({ org }: { org: string }) {
  const [kind, setKind] = useState<GitHostKind>("github");
  const [name, setName] = useState("");
  const [token, setToken] = useState("");
  const [apiUrl, setApiUrl] = useState("");
  const [gitUrl, setGitUrl] = useState("");
  const connect = useConnectGitHost(org);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body = {
      kind,
      name: name.trim(),
      token: token.trim(),
      ...(apiUrl.trim() ? { apiUrl: apiUrl.trim() } : {}),
      ...(gitUrl.trim() ? { gitUrl: gitUrl.trim() } : {}),
    };
    connect.mutate(body, {
      onSuccess: () => {
        setName("");
        setToken("");
        setApiUrl("");
        setGitUrl("");
      },
    });
  };
  return (
    <Section
      title="Connect a git host"
      description="Kiln checks the token with the host, stores it encrypted and never shows it again."
    >
      <form onSubmit={submit} className="grid gap-3 sm:grid-cols-2" aria-label="Connect a git host">
        <Field label="Host">
          {(id) => (
            <Select id={id} value={kind} onChange={(e) => setKind(e.target.value as GitHostKind)}>
              {Object.entries(GIT_HOST_LABELS).map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label="Name">
          {(id) => (
            <Input
              id={id}
              value={name}
              onChange={(e) => setName(e.target.value)}
              placeholder={`${GIT_HOST_LABELS[kind]} (team)`}
              required
              maxLength={60}
            />
          )}
        </Field>
        <Field label="Access token" hint="Write-only: Kiln never shows it back.">
          {(id) => (
            <Input
              id={id}
              type="password"
              autoComplete="off"
              value={token}
              onChange={(e) => setToken(e.target.value)}
              required
              minLength={8}
              maxLength={1024}
            />
          )}
        </Field>
        <Field
          label={kind === "gitea" ? "API URL" : "API URL (optional)"}
          hint={kind === "gitea" ? "Your Gitea's /api/v1." : "For a self-hosted instance."}
        >
          {(id) => (
            <Input
              id={id}
              type="url"
              value={apiUrl}
              onChange={(e) => setApiUrl(e.target.value)}
              placeholder={API_PLACEHOLDER[kind]}
              required={kind === "gitea"}
              maxLength={500}
            />
          )}
        </Field>
        <Field label="Clone origin (optional)" hint="Where git clones from, when not the API's host.">
          {(id) => (
            <Input
              id={id}
              type="url"
              value={gitUrl}
              onChange={(e) => setGitUrl(e.target.value)}
              placeholder={kind === "github" ? "https://github.com" : "https://git.example.com"}
              maxLength={500}
            />
          )}
        </Field>
        {connect.isError && (
          <p role="alert" className="text-xs text-red-400 sm:col-span-2">
            {describeError(connect.error)}
          </p>
        )}
        <div className="sm:col-span-2">
          <Button
            type="submit"
            variant="primary"
            size="md"
            loading={connect.isPending}
            disabled={!name.trim() || token.trim().length < 8 || (kind === "gitea" && !apiUrl.trim())}
          >
            Connect
          </Button>
        </div>
      </form>
    </Section>
  );
}
