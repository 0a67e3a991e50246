import type { Job, JobEvent, MessagePart } from "@kiln/protocol";
import { applyEventToParts, FINAL_JOB_STATES } from "@kiln/protocol";
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { keys } from "../../api/keys.ts";
import { PartView } from "../chat/message-list.tsx";
import { followJob } from "./job-stream.ts";

interface Line {
  seq: number;
  text: string;
  tone: "muted" | "error" | "ok";
}

interface Folded {
  lines: Line[];
  parts: MessagePart[];
}

/** Steps, logs and state changes as lines; the agent's events as one growing turn, as the chat shows it. */
export function foldJobEvent(folded: Folded, { seq, event }: JobEvent): Folded {
  switch (event.type) {
    case "agent":
      return { ...folded, parts: applyEventToParts(folded.parts, event.event) };
    case "step":
      return line(
        folded,
        seq,
        `${event.name}: ${event.status}${event.detail ? ` — ${event.detail}` : ""}`,
        event.status === "failed" ? "error" : "muted",
      );
    case "log":
      return line(folded, seq, event.message, event.level === "error" ? "error" : "muted");
    case "state":
      return line(
        folded,
        seq,
        `Job ${event.state}${event.failure ? `: ${event.failure.message}` : ""}`,
        event.state === "completed" ? "ok" : event.failure ? "error" : "muted",
      );
    case "cancel-requested":
      return line(folded, seq, "Cancel requested", "muted");
  }
}

function line(folded: Folded, seq: number, text: string, tone: Line["tone"]): Folded {
  return { ...folded, lines: [...folded.lines, { seq, text, tone }] };
}

const TONE = { muted: "text-neutral-500", error: "text-red-300", ok: "text-emerald-300" };

/** The live log of one job: follows its event stream until the job is over. */
export function JobLog({ org, job }: { org: string; job: Job }) {
  const [folded, setFolded] = useState<Folded>({ lines: [], parts: [] });
  const final = FINAL_JOB_STATES.includes(job.state);
  const qc = useQueryClient();
  useEffect(() => {
    setFolded({ lines: [], parts: [] });
    return followJob(org, job.id, (event) => {
      setFolded((f) => foldJobEvent(f, event));
      // The job lists (badges, the review panel's "still working") follow the stream, not their next poll.
      if (event.event.type === "state") void qc.invalidateQueries({ queryKey: keys.jobs(org) });
    });
  }, [org, job.id, qc]);
  return (
    <div data-testid="job-log" className="flex flex-col gap-2 rounded-md border border-line bg-surface-0 p-2">
      <ol className="flex flex-col gap-0.5 font-mono text-[11px]">
        {folded.lines.map((l) => (
          <li key={l.seq} className={TONE[l.tone]}>
            {l.text}
          </li>
        ))}
        {folded.lines.length === 0 && (
          <li className="text-neutral-600">{final ? "No events." : "Waiting for a worker…"}</li>
        )}
      </ol>
      {folded.parts.length > 0 && (
        <div className="flex flex-col gap-2 border-t border-line pt-2">
          {folded.parts.map((part, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: parts only ever grow at the end
            <PartView key={i} part={part} onDecide={undefined} />
          ))}
        </div>
      )}
    </div>
  );
}
