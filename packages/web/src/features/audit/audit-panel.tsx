import type { AuditEvent, AuditFilterQuery } from "@kiln/protocol";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { Input, Select } from "../../ui/input.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { relativeTime } from "../projects/time.ts";
import { Section } from "../settings/section.tsx";
import { actorOf, detailsOf, FAMILY_LABELS, verbOf } from "./describe.ts";

const LINK =
  "rounded-md border border-line bg-surface-1 px-3 py-1.5 text-xs font-medium text-neutral-100 hover:bg-surface-2";

/**
 * The org's audit log (admins): who did what, newest first, filtered by kind, person and day, and exported
 * as JSON lines or CSV with the same filters.
 */
export function AuditPanel({ org }: { org: string }) {
  const [family, setFamily] = useState("");
  const [actor, setActor] = useState("");
  const [since, setSince] = useState("");
  const filter: AuditFilterQuery = {
    ...(family ? { action: family } : {}),
    ...(actor ? { actor } : {}),
    ...(since ? { since: new Date(`${since}T00:00:00`).toISOString() } : {}),
  };
  const members = useQuery({ queryKey: keys.members(org), queryFn: () => api.orgs.members(org) });
  const projects = useQuery({ queryKey: keys.projects(org), queryFn: () => api.projects.list(org) });
  const projectName = new Map((projects.data ?? []).map((p) => [p.id, p.name]));
  const log = useInfiniteQuery({
    queryKey: keys.audit(org, filter),
    queryFn: ({ pageParam }) => api.audit.list(org, filter, pageParam),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => page.nextBefore ?? undefined,
  });
  const events = log.data?.pages.flatMap((p) => p.events) ?? [];

  return (
    <Section
      title="Audit log"
      description="Everything people and agents did in this org: sign-ins, members, settings, projects, deployments and every tool call an agent made for someone. Records cannot be changed; secrets are never recorded."
    >
      <div className="flex flex-wrap items-center gap-2">
        <Select
          aria-label="Kind"
          value={family}
          onChange={(e) => setFamily(e.target.value)}
          className="w-auto text-xs"
        >
          <option value="">Everything</option>
          {Object.entries(FAMILY_LABELS).map(([f, label]) => (
            <option key={f} value={f}>
              {label}
            </option>
          ))}
        </Select>
        <Select
          aria-label="Person"
          value={actor}
          onChange={(e) => setActor(e.target.value)}
          className="w-auto max-w-56 text-xs"
        >
          <option value="">Anyone</option>
          {(members.data ?? []).map((m) => (
            <option key={m.userId} value={m.userId}>
              {m.email}
            </option>
          ))}
        </Select>
        <Input
          type="date"
          aria-label="Since"
          value={since}
          onChange={(e) => setSince(e.target.value)}
          className="w-auto text-xs"
        />
        <div className="ml-auto flex gap-2">
          <a href={api.audit.exportUrl(org, filter, "csv")} download className={LINK}>
            Export CSV
          </a>
          <a href={api.audit.exportUrl(org, filter, "jsonl")} download className={LINK}>
            Export JSON lines
          </a>
        </div>
      </div>
      {log.isPending ? (
        <LoadingBlock label="Loading the audit log" />
      ) : log.isError ? (
        <ErrorState message={describeError(log.error)} onRetry={() => log.refetch()} />
      ) : events.length === 0 ? (
        <EmptyState
          title="Nothing recorded"
          description={
            family || actor || since ? "Nothing matches these filters." : "What people do here will show up."
          }
        />
      ) : (
        <>
          <ol
            aria-label="Audit events"
            className="flex flex-col divide-y divide-line rounded-md border border-line"
          >
            {events.map((e) => (
              <AuditRow
                key={e.id}
                event={e}
                project={e.projectId ? projectName.get(e.projectId) : undefined}
              />
            ))}
          </ol>
          {log.hasNextPage && (
            <Button
              size="xs"
              className="self-start"
              loading={log.isFetchingNextPage}
              onClick={() => void log.fetchNextPage()}
            >
              Load older
            </Button>
          )}
        </>
      )}
    </Section>
  );
}

export function AuditRow({ event: e, project }: { event: AuditEvent; project: string | undefined }) {
  const details = detailsOf(e);
  return (
    <li className="flex flex-col gap-1 px-3 py-2 text-xs" data-action={e.action}>
      <div className="flex flex-wrap items-baseline gap-x-1.5">
        <span className="font-medium text-neutral-100">{actorOf(e)}</span>
        <span className="text-neutral-300">{verbOf(e.action)}</span>
        {e.target?.label && <span className="min-w-0 truncate text-neutral-100">{e.target.label}</span>}
        {project && <span className="text-neutral-500">in {project}</span>}
        <time dateTime={e.at} title={new Date(e.at).toLocaleString()} className="ml-auto text-neutral-500">
          {relativeTime(e.at)}
        </time>
      </div>
      {(details.length > 0 || e.ip) && (
        <div className="flex flex-wrap gap-1.5 font-mono text-[11px] text-neutral-500">
          <span className="text-neutral-600">{e.action}</span>
          {details.map((d) => (
            <span key={d} className="max-w-full truncate rounded bg-surface-2 px-1.5">
              {d}
            </span>
          ))}
          {e.ip && <span>from {e.ip}</span>}
        </div>
      )}
    </li>
  );
}
