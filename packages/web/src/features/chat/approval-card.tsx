import type { ApprovalDecision } from "@kiln/protocol";
import { useEffect, useState } from "react";
import { Button } from "../../ui/button.tsx";

/** "9:58" for the time left before an unanswered request rejects itself. */
export function formatLeft(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return `${m}:${String(s).padStart(2, "0")}`;
}

/** Approve, approve everything for this chat, or reject; shows how long is left before it rejects itself. */
export function ApprovalCard({
  expiresAt,
  onDecide,
}: {
  expiresAt: string | undefined;
  onDecide: (decision: ApprovalDecision) => void;
}) {
  const [now, setNow] = useState(() => Date.now());
  const [decided, setDecided] = useState(false);
  useEffect(() => {
    if (!expiresAt) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [expiresAt]);
  const left = expiresAt ? Math.max(0, Math.round((new Date(expiresAt).getTime() - now) / 1000)) : undefined;
  const decide = (d: ApprovalDecision) => {
    setDecided(true);
    onDecide(d);
  };
  return (
    <fieldset
      aria-label="Approval"
      className="flex flex-col gap-2 border-t border-amber-500/20 bg-amber-500/5 px-2.5 py-2"
    >
      <p className="flex items-baseline gap-2 text-amber-200">
        <span className="flex-1">The agent wants to run this.</span>
        {left !== undefined && (
          <span
            className="font-mono text-[11px] text-amber-200/60"
            title="Rejected on its own when the time runs out"
          >
            {formatLeft(left)}
          </span>
        )}
      </p>
      <div className="flex flex-wrap gap-1.5">
        <Button size="xs" variant="primary" disabled={decided} onClick={() => decide("approve")}>
          Approve
        </Button>
        <Button
          size="xs"
          disabled={decided}
          onClick={() => decide("approve-all")}
          title="Approve this and every later call in this chat"
        >
          Approve all
        </Button>
        <Button size="xs" variant="ghost" disabled={decided} onClick={() => decide("reject")}>
          Reject
        </Button>
      </div>
    </fieldset>
  );
}
