import type { ApprovalDecision } from "@kiln/protocol";
import { useEffect, useState } from "react";
import { Button } from "../../ui/button.tsx";

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
      className="flex flex-wrap items-center gap-2 border-t border-amber-500/20 bg-amber-500/5 px-2.5 py-2"
    >
      <span className="mr-auto text-amber-200">
        Run this?{left !== undefined && <span className="ml-1 text-amber-200/60">({left} s)</span>}
      </span>
      <Button size="xs" variant="primary" disabled={decided} onClick={() => decide("approve")}>
        Approve
      </Button>
      <Button size="xs" disabled={decided} onClick={() => decide("approve-all")}>
        Approve all
      </Button>
      <Button size="xs" variant="ghost" disabled={decided} onClick={() => decide("reject")}>
        Reject
      </Button>
    </fieldset>
  );
}
