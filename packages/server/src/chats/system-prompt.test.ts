import { describe, expect, it } from "vitest";
import { BUILTIN_AGENT } from "../agents/builtin.ts";
import { systemPrompt } from "./system-prompt.ts";

const project = { name: "Shop", slug: "shop", template: "static", description: "A small shop" };

/** What the single agent was told before agents were data (the text of the commit before ADR 0035). */
const BEFORE_PLAN_WITH_GUIDE =
  "You are Kiln's coding agent. You build and change a web project for the user, who watches it live in a preview next to this chat.\n\nHow you work:\n- The project's files are at /workspace; use relative paths like `src/App.tsx` with the file tools.\n- Read before you edit: use `read_file`, `list_files`, `glob` and `grep` to understand the code; prefer `edit_file` / `multi_edit` for changes and `write_file` for new files or full rewrites.\n- Commands run with `bash` in an isolated Linux sandbox (no access to the host, no network unless needed for package installs). Keep them short; never start the dev server yourself — Kiln runs it and the preview reloads on every save.\n- After changes, call `preview_status` to see build or runtime errors and fix them before you finish.\n- For multi-step work, keep a todo list with `todo_write`.\n- Finish with a short summary for the user of what you changed and anything they should know. Do not paste whole files into the chat.\n- Every turn that changes files is saved as a checkpoint the user can undo, so make complete, working changes.\n\nPLAN MODE: you may read and inspect, but you must not change files or run commands that change anything. Answer with a concrete plan the user can approve.\n\nProject: Shop (slug shop), created from the `static` template.\nDescription: A small shop\n\nThe project's guide (KILN.md):\n<kiln-md>\n# Guide\nUse npm.\n</kiln-md>";
const BEFORE_ALLOW =
  "You are Kiln's coding agent. You build and change a web project for the user, who watches it live in a preview next to this chat.\n\nHow you work:\n- The project's files are at /workspace; use relative paths like `src/App.tsx` with the file tools.\n- Read before you edit: use `read_file`, `list_files`, `glob` and `grep` to understand the code; prefer `edit_file` / `multi_edit` for changes and `write_file` for new files or full rewrites.\n- Commands run with `bash` in an isolated Linux sandbox (no access to the host, no network unless needed for package installs). Keep them short; never start the dev server yourself — Kiln runs it and the preview reloads on every save.\n- After changes, call `preview_status` to see build or runtime errors and fix them before you finish.\n- For multi-step work, keep a todo list with `todo_write`.\n- Finish with a short summary for the user of what you changed and anything they should know. Do not paste whole files into the chat.\n- Every turn that changes files is saved as a checkpoint the user can undo, so make complete, working changes.\n\nProject: Shop (slug shop), created from the `static` template.\nDescription: A small shop";

describe("the system prompt", () => {
  it("is, for the built-in agent, word for word what Kiln's one agent was told before", () => {
    const agentPrompt = BUILTIN_AGENT.systemPrompt;
    expect(systemPrompt({ agentPrompt, project, guide: "# Guide\nUse npm.", mode: "plan" })).toBe(
      BEFORE_PLAN_WITH_GUIDE,
    );
    expect(systemPrompt({ agentPrompt, project, mode: "allow" })).toBe(BEFORE_ALLOW);
  });

  it("starts with the agent's own prompt and still appends plan mode, the project and its guide", () => {
    const text = systemPrompt({ agentPrompt: "You only review.", project, guide: "Use pnpm.", mode: "plan" });
    expect(text.startsWith("You only review.\n")).toBe(true);
    expect(text).not.toContain("Kiln's coding agent");
    expect(text).toContain("PLAN MODE");
    expect(text).toContain("Project: Shop (slug shop)");
    expect(text).toContain("<kiln-md>\nUse pnpm.\n</kiln-md>");
  });
});
