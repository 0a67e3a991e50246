/**
 * A demo agent run for the prompt-first start ("a habit tracker with a streak counter") on the react-vite
 * template: look around, write src/HabitTracker.tsx, make src/App.tsx render it, summarise. Like the counter
 * scenario, the next step comes from the tool calls already in this turn, so retries and either API format
 * work.
 */
import { currentTurn, readConversation } from "./conversation.ts";
import type { Reply, Responder } from "./types.ts";

export const HABIT_TRACKER_PATH = "src/HabitTracker.tsx";

export const HABIT_TRACKER_SOURCE = `import { useState } from "react";

interface Habit {
  name: string;
  streak: number;
  doneToday: boolean;
}

const START: Habit[] = [
  { name: "Drink water", streak: 3, doneToday: false },
  { name: "Read 10 pages", streak: 0, doneToday: false },
];

export function HabitTracker() {
  const [habits, setHabits] = useState(START);
  const [name, setName] = useState("");
  const best = Math.max(0, ...habits.map((h) => h.streak));

  const toggle = (i: number) =>
    setHabits((all) =>
      all.map((h, j) =>
        j === i ? { ...h, doneToday: !h.doneToday, streak: h.streak + (h.doneToday ? -1 : 1) } : h,
      ),
    );

  return (
    <section className="w-full max-w-md rounded-2xl border border-slate-200 bg-white p-6 text-left shadow-sm">
      <p className="text-sm font-medium text-orange-700">Best streak: {best} days</p>
      <ul className="mt-4 flex flex-col gap-2">
        {habits.map((h, i) => (
          <li key={h.name} className="flex items-center justify-between rounded-lg bg-slate-50 px-3 py-2">
            <span>{h.name}</span>
            <button
              type="button"
              onClick={() => toggle(i)}
              className="rounded-md bg-orange-600 px-3 py-1 text-sm font-semibold text-white"
            >
              {h.doneToday ? "Done" : "Mark done"} · {h.streak} day streak
            </button>
          </li>
        ))}
      </ul>
      <form
        className="mt-4 flex gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          if (!name.trim()) return;
          setHabits((all) => [...all, { name: name.trim(), streak: 0, doneToday: false }]);
          setName("");
        }}
      >
        <input
          aria-label="New habit"
          value={name}
          onChange={(e) => setName(e.target.value)}
          placeholder="A new habit"
          className="flex-1 rounded-md border border-slate-300 px-3 py-1.5"
        />
        <button type="submit" className="rounded-md border border-slate-300 px-3 py-1.5">
          Add
        </button>
      </form>
    </section>
  );
}
`;

export const HABIT_APP_SOURCE = `import { HabitTracker } from "./HabitTracker.tsx";

export function App() {
  return (
    <main className="flex min-h-screen flex-col items-center gap-6 bg-orange-50 px-6 py-16 text-slate-900">
      <h1 className="text-4xl font-bold tracking-tight">Habit tracker</h1>
      <HabitTracker />
    </main>
  );
}
`;

export const HABIT_TRACKER_SUMMARY =
  "Done! I built a habit tracker: `src/HabitTracker.tsx` lists your habits, each with a “Mark done” button " +
  "and its streak in days, shows your best streak on top, and lets you add habits; `src/App.tsx` renders it " +
  "under a “Habit tracker” heading.";

const pathOf = (input: unknown) =>
  input && typeof input === "object" && typeof (input as { path?: unknown }).path === "string"
    ? (input as { path: string }).path.replace(/^(\.\/|\/)+/, "")
    : "";

export function buildHabitTracker(): Responder {
  return (request) => {
    const calls = currentTurn(readConversation(request)).flatMap((m) => m.toolCalls);
    const wrote = (path: string) => calls.some((c) => c.name === "write_file" && pathOf(c.input) === path);
    if (!calls.some((c) => c.name === "list_files"))
      return say("Let me look at the project first.", { name: "list_files", arguments: { path: "." } });
    if (!wrote(HABIT_TRACKER_PATH))
      return say("I'll write the habit tracker component.", {
        name: "write_file",
        arguments: { path: HABIT_TRACKER_PATH, content: HABIT_TRACKER_SOURCE },
      });
    if (!wrote("src/App.tsx"))
      return say("Now the page renders it.", {
        name: "write_file",
        arguments: { path: "src/App.tsx", content: HABIT_APP_SOURCE },
      });
    return { text: HABIT_TRACKER_SUMMARY };
  };
}

function say(text: string, call: { name: string; arguments: Record<string, unknown> }): Reply {
  return { text, toolCalls: [call] };
}
