import { buildCounterApp } from "./build-counter-app.ts";
import { buildHabitTracker } from "./build-habit-tracker.ts";
import { lastUserText, readConversation } from "./conversation.ts";
import { assertReply } from "./plan.ts";
import type { Reply, Responder } from "./types.ts";

/** The nth model call gets the nth step (counted from when the responder is first called), then `final`. */
export function scenarioResponder(steps: Reply[], final: Reply = { text: "done" }): Responder {
  steps.forEach((step, i) => {
    assertReply(step, `step ${i}`);
  });
  let next = 0;
  return () => steps[next++] ?? final;
}

function echo(): Responder {
  return (request) => ({ text: `Echo: ${lastUserText(readConversation(request))}` });
}

/** Ready-made responders by name (the CLI's `--scenario`). Each call makes a fresh one. */
export const scenarios: Record<string, () => Responder> = {
  "build-counter-app": buildCounterApp,
  "build-habit-tracker": buildHabitTracker,
  echo,
};
