import { expect, it } from "vitest";
import { actorName } from "./actor-name.ts";

it("names an agent by the job it ran in, when that job is known", () => {
  const jobAgent = (jobId: string | null) => (jobId === "j1" ? "✏️ Copy editor" : undefined);
  expect(actorName({ type: "agent", jobId: "j1" }, [], jobAgent)).toBe("✏️ Copy editor");
  expect(actorName({ type: "agent", jobId: "j2" }, [], jobAgent)).toBe("Agent");
  expect(actorName({ type: "agent", jobId: null }, [])).toBe("Agent");
});
