import { useInfiniteQuery } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { EmptyState, ErrorState } from "../../ui/states.tsx";
import { AuditRow } from "../audit/audit-panel.tsx";

/** What instance administrators did (audit records without an org), newest first. */
export function AdminAuditPanel() {
  const log = useInfiniteQuery({
    queryKey: keys.adminAudit,
    queryFn: ({ pageParam }) => api.admin.audit(pageParam === undefined ? {} : { before: pageParam }),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (page) => page.nextBefore ?? undefined,
  });
  if (log.isPending) return <LoadingBlock label="Loading the admin log" />;
  if (log.isError) return <ErrorState message={describeError(log.error)} onRetry={() => log.refetch()} />;
  const events = log.data.pages.flatMap((p) => p.events);
  if (events.length === 0) {
    return (
      <EmptyState
        title="Nothing yet"
        description="Suspensions, resets, deletions and sign-up changes made here show up."
      />
    );
  }
  return (
    <div className="flex flex-col gap-3">
      <ol aria-label="Admin log" className="flex flex-col divide-y divide-line rounded-md border border-line">
        {events.map((e) => (
          <AuditRow key={e.id} event={e} project={undefined} />
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
    </div>
  );
}
