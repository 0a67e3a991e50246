import { type AutomationRule, BUILTIN_AGENT_ID, CreateRuleBody } from "@kiln/protocol";
import { expect, it } from "vitest";
import { draftFromRule, draftToBody, emptyDraft } from "./rule-draft.ts";

const STATUS = "8d3c1a52-8a0e-4c5e-9d7a-6f2b1c0d9e11";
const USER = "1b2c3d4e-5f60-4172-8394-a5b6c7d8e9f0";
const AGENT = "2c3d4e5f-6071-4283-94a5-b6c7d8e9f0a1";

const rule: AutomationRule = {
  id: "0f0e0d0c-0b0a-4909-8807-060504030201",
  projectId: "11111111-2222-4333-8444-555555555555",
  name: "Triage bugs",
  enabled: false,
  trigger: { type: "task_moved", toStatus: STATUS },
  conditions: { labelsInclude: ["bug", "ui"], priorityIn: ["high", "urgent"], assigneeType: "agent" },
  actions: [
    { type: "start_job", kind: "fix", instructions: "Add a test first." },
    { type: "start_job", kind: "implement", agentId: AGENT },
    { type: "start_job", kind: "review", agentId: BUILTIN_AGENT_ID },
    { type: "move", statusId: STATUS },
    { type: "assign", assignee: { type: "member", userId: USER } },
    { type: "assign", assignee: { type: "agent", agentId: AGENT } },
    { type: "assign", assignee: { type: "agent" } },
    { type: "assign", assignee: null },
    { type: "comment", text: "On it." },
  ],
  createdBy: null,
  createdAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
};

it("turns a rule into a draft and back into the same rule", () => {
  const body = draftToBody(draftFromRule(rule));
  expect(body).toEqual({
    name: rule.name,
    enabled: false,
    trigger: rule.trigger,
    conditions: rule.conditions,
    actions: rule.actions,
  });
  expect(CreateRuleBody.safeParse(body).success).toBe(true);
});

it("leaves out empty conditions, a missing status and blank job instructions", () => {
  const draft = { ...emptyDraft(), name: "Any move", labels: " , ", priorities: [] };
  expect(draftToBody(draft)).toEqual({
    name: "Any move",
    enabled: true,
    trigger: { type: "task_moved" },
    conditions: {},
    actions: [{ type: "start_job", kind: "implement" }],
  });
  const created = draftToBody({ ...draft, trigger: "task_created", toStatus: STATUS });
  expect(created.trigger).toEqual({ type: "task_created" });
});

it("gives the protocol's schema something it refuses when the draft is incomplete", () => {
  const draft = emptyDraft();
  draft.actions = [{ ...draft.actions[0]!, type: "comment", text: "  " }];
  const parsed = CreateRuleBody.safeParse(draftToBody(draft));
  expect(parsed.success).toBe(false);
  const paths = parsed.error?.issues.map((i) => i.path.join("."));
  expect(paths).toEqual(expect.arrayContaining(["name", "actions.0.text"]));
});
