import { useQuery } from "@tanstack/react-query";
import { api } from "../../api/endpoints.ts";
import { describeError } from "../../api/errors.ts";
import { keys } from "../../api/keys.ts";
import { Button } from "../../ui/button.tsx";
import { confirmDialog } from "../../ui/confirm.tsx";
import { LoadingBlock } from "../../ui/spinner.tsx";
import { ErrorState } from "../../ui/states.tsx";
import { relativeTime } from "../projects/time.ts";
import { useRevokeOtherSessions, useRevokeSession } from "./mutations.ts";
import { describeAgent } from "./user-agent.ts";

/** The browsers signed in as this user: this one first, each other one can be signed out. */
export function SessionsSection() {
  const sessions = useQuery({ queryKey: keys.sessions, queryFn: api.auth.sessions });
  const revokeOthers = useRevokeOtherSessions();
  const revoke = useRevokeSession();
  if (sessions.isPending) return <LoadingBlock label="Loading sessions" />;
  if (sessions.isError)
    return <ErrorState message={describeError(sessions.error)} onRetry={() => sessions.refetch()} />;
  const list = [...sessions.data].sort((a, b) => Number(b.current) - Number(a.current));
  const others = list.filter((s) => !s.current).length;

  const signOutOthers = async () => {
    const ok = await confirmDialog({
      title: "Sign out other sessions?",
      description: "Every other browser and device signed in as you is signed out at once.",
      confirmLabel: "Sign out others",
      danger: true,
    });
    if (ok) revokeOthers.mutate();
  };

  return (
    <div className="flex flex-col gap-3">
      <ul className="divide-y divide-line rounded-lg border border-line" aria-label="Sessions">
        {list.map((s) => (
          <li key={s.id} className="flex items-center gap-3 px-3 py-2 text-[13px]">
            <div className="min-w-0 flex-1">
              <p className="truncate text-neutral-100">
                {describeAgent(s.userAgent)}
                {s.current && (
                  <span className="ml-2 rounded bg-accent-600/20 px-1.5 py-0.5 text-[11px] text-accent-300">
                    This device
                  </span>
                )}
              </p>
              <p className="truncate text-xs text-neutral-500">
                {s.ip ?? "unknown address"} · signed in {relativeTime(s.createdAt)} · last active{" "}
                {relativeTime(s.lastUsedAt)}
              </p>
            </div>
            {!s.current && (
              <Button size="xs" variant="ghost" onClick={() => revoke.mutate(s.id)}>
                Sign out
              </Button>
            )}
          </li>
        ))}
      </ul>
      <div>
        <Button
          variant="danger"
          size="sm"
          disabled={others === 0}
          loading={revokeOthers.isPending}
          onClick={() => void signOutOthers()}
        >
          Sign out other sessions
        </Button>
      </div>
    </div>
  );
}
