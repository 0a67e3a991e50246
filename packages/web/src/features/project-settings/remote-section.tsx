import type { GitAuth, GitHost, PullResult, RemoteStatus } from "@kiln/protocol";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { Field, Input } from "../../ui/input.tsx";
import { toast } from "../../ui/toast.tsx";
import { HostPicker, useGitHosts } from "../git-hosts/host-picker.tsx";
import { Section } from "../settings/section.tsx";
import { CreateRepositoryForm } from "./host-repository.tsx";

/**
 * The Git panel: the project linked to a repository elsewhere (GitHub, a GitLab of your own), main pushed
 * to and pulled from its branch. A pull that meets a conflict changes nothing and says which files; the
 * user can then merge with conflict markers (both sides' text kept) and edit them before pushing.
 */
export function RemoteSection({
  org,
  project,
  canWrite,
}: {
  org: string;
  project: string;
  canWrite: boolean;
}) {
  const qc = useQueryClient();
  const key = keys.remote(org, project);
  const state = useQuery({ queryKey: key, queryFn: () => api.remotes.get(org, project) });
  const [token, setToken] = useState("");
  const auth: { auth?: GitAuth } = token ? { auth: { token } } : {};
  const settle = () => qc.invalidateQueries({ queryKey: key });
  const remote = state.data?.remote;
  const hosts = useGitHosts(org).data ?? [];

  return (
    <Section
      title="Git remote"
      description="Link the project to a repository on another git host over https, then push and pull its main branch."
    >
      {state.isError && <p className="text-xs text-red-400">{describeError(state.error)}</p>}
      {state.data && !remote && canWrite && (
        <>
          <LinkForm org={org} project={project} hosts={hosts} onLinked={settle} />
          {hosts.length > 0 && (
            <CreateRepositoryForm org={org} project={project} hosts={hosts} onLinked={settle} />
          )}
        </>
      )}
      {state.data && !remote && !canWrite && <p className="text-xs text-neutral-500">Not linked.</p>}
      {remote && (
        <Linked
          org={org}
          project={project}
          remote={remote}
          canWrite={canWrite}
          auth={auth}
          onChange={settle}
        />
      )}
      {remote && canWrite && !remote.host && (
        <div className="max-w-lg">
          <Field
            label="Access token (optional)"
            hint="Sent with the next push or pull only; Kiln does not keep it."
          >
            {(id) => (
              <Input
                id={id}
                type="password"
                autoComplete="off"
                value={token}
                onChange={(e) => setToken(e.target.value.trim())}
              />
            )}
          </Field>
        </div>
      )}
    </Section>
  );
}

function LinkForm({
  org,
  project,
  hosts,
  onLinked,
}: {
  org: string;
  project: string;
  hosts: GitHost[];
  onLinked: () => void;
}) {
  const [url, setUrl] = useState("");
  const [host, setHost] = useState("");
  const [branch, setBranch] = useState("");
  const [token, setToken] = useState("");
  const link = useMutation({
    mutationFn: () =>
      api.remotes.link(org, project, {
        url,
        ...(branch ? { branch } : {}),
        ...(host ? { host } : {}),
        ...(token ? { auth: { token } } : {}),
      }),
    onSuccess: () => toast.success("Linked"),
    onSettled: onLinked,
    meta: { errorToast: "Could not link the repository" },
  });
  return (
    <form
      className="flex max-w-lg flex-col gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        link.mutate();
      }}
    >
      <Field label="Repository URL">
        {(id) => (
          <Input
            id={id}
            required
            value={url}
            placeholder="https://github.com/you/app.git"
            onChange={(e) => setUrl(e.target.value)}
          />
        )}
      </Field>
      {hosts.length > 0 && (
        <HostPicker hosts={hosts} value={host} onChange={setHost} none="None: a token per action" />
      )}
      <div className="flex flex-wrap gap-2">
        <div className="min-w-40 flex-1">
          <Field label="Branch (optional)">
            {(id) => (
              <Input
                id={id}
                value={branch}
                placeholder="its default"
                onChange={(e) => setBranch(e.target.value)}
              />
            )}
          </Field>
        </div>
        <div className="min-w-40 flex-1">
          <Field label="Access token (optional)">
            {(id) => (
              <Input
                id={id}
                type="password"
                autoComplete="off"
                value={token}
                onChange={(e) => setToken(e.target.value.trim())}
              />
            )}
          </Field>
        </div>
      </div>
      <div>
        <Button type="submit" variant="primary" loading={link.isPending}>
          Link repository
        </Button>
      </div>
    </form>
  );
}

function Linked({
  org,
  project,
  remote,
  canWrite,
  auth,
  onChange,
}: {
  org: string;
  project: string;
  remote: RemoteStatus;
  canWrite: boolean;
  auth: { auth?: GitAuth };
  onChange: () => void;
}) {
  const [markers, setMarkers] = useState<string[]>([]);
  const fetch = useMutation({
    mutationFn: () => api.remotes.fetch(org, project, auth),
    onSettled: onChange,
    meta: { errorToast: "Could not fetch" },
  });
  const push = useMutation({
    mutationFn: () => api.remotes.push(org, project, auth),
    onSuccess: (r) =>
      toast.success(r.outcome === "up-to-date" ? "Already up to date" : `Pushed to ${r.remoteBranch}`),
    onSettled: onChange,
    meta: { errorToast: "Could not push" },
  });
  const pull = useMutation({
    mutationFn: (onConflict: "stop" | "markers") => api.remotes.pull(org, project, { onConflict, ...auth }),
    onSuccess: (r: PullResult) => {
      if (r.outcome === "conflict") toast.error("Both sides changed the same files: nothing was changed");
      else if (r.outcome === "merged-with-conflicts") setMarkers(r.conflicts);
      else toast.success(r.outcome === "up-to-date" ? "Already up to date" : "Pulled");
      if (r.outcome !== "merged-with-conflicts") setMarkers([]);
    },
    onSettled: onChange,
    meta: { errorToast: "Could not pull" },
  });
  const unlink = useMutation({
    mutationFn: () => api.remotes.unlink(org, project),
    onSettled: onChange,
    meta: { errorToast: "Could not unlink" },
  });
  const busy = fetch.isPending || push.isPending || pull.isPending || unlink.isPending;
  const confirmUnlink = async () => {
    const ok = await confirmDialog({
      title: "Unlink the repository?",
      description: "Nothing changes on the remote or in the project's files.",
      confirmLabel: "Unlink",
    });
    if (ok) unlink.mutate();
  };

  return (
    <div className="flex max-w-2xl flex-col gap-3 text-xs" data-testid="git-remote">
      <dl className="grid grid-cols-[8rem_1fr] gap-y-1 text-neutral-300">
        <dt className="text-neutral-500">Repository</dt>
        <dd className="truncate font-mono" title={remote.url}>
          {remote.url}
        </dd>
        <dt className="text-neutral-500">Branch</dt>
        <dd className="font-mono">main ↔ {remote.branch}</dd>
        <dt className="text-neutral-500">Status</dt>
        <dd data-testid="ahead-behind">
          {remote.ahead === null ? "not fetched yet" : `${remote.ahead} to push, ${remote.behind} to pull`}
          {remote.lastSyncedAt && (
            <span className="text-neutral-500">
              {" "}
              · synced {new Date(remote.lastSyncedAt).toLocaleString()}
            </span>
          )}
        </dd>
      </dl>
      {remote.conflict && (
        <div
          role="alert"
          className="rounded-md border border-amber-500/40 bg-amber-500/10 p-3 text-amber-100"
        >
          <p className="font-medium">The last pull stopped: these files changed here and on the remote.</p>
          <ul className="my-1.5 list-disc pl-5 font-mono">
            {remote.conflict.paths.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
          <p>
            Nothing in the project was changed. Merge anyway to get both versions in each file between{" "}
            <code>&lt;&lt;&lt;&lt;&lt;&lt;&lt;</code> and <code>&gt;&gt;&gt;&gt;&gt;&gt;&gt;</code> markers;
            edit them to keep what you want, then push.
          </p>
          {canWrite && (
            <Button className="mt-2" size="xs" onClick={() => pull.mutate("markers")} disabled={busy}>
              Merge with conflict markers
            </Button>
          )}
        </div>
      )}
      {markers.length > 0 && (
        <div role="status" className="rounded-md border border-line bg-surface-0 p-3 text-neutral-200">
          Merged. Resolve the conflict markers in {markers.join(", ")}, then push.
        </div>
      )}
      {canWrite && (
        <div className="flex flex-wrap gap-2">
          <Button size="xs" onClick={() => fetch.mutate()} loading={fetch.isPending} disabled={busy}>
            Fetch
          </Button>
          <Button size="xs" onClick={() => pull.mutate("stop")} loading={pull.isPending} disabled={busy}>
            Pull
          </Button>
          <Button
            size="xs"
            variant="primary"
            onClick={() => push.mutate()}
            loading={push.isPending}
            disabled={busy}
          >
            Push
          </Button>
          <Button size="xs" variant="ghost" onClick={() => void confirmUnlink()} disabled={busy}>
            Unlink
          </Button>
        </div>
      )}
    </div>
  );
}
