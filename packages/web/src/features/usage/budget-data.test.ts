import type { Budget } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { budgetFill, budgetTitle, formatBudgetAmount } from "./budget-data.ts";

const budget = (over: Partial<Budget>): Budget => ({
  id: "00000000-0000-4000-8000-000000000001",
  scope: "org",
  scopeId: null,
  period: "monthly",
  unit: "usd",
  limit: 10,
  softFraction: 0.8,
  createdBy: null,
  createdAt: "2026-12-01T00:00:00.000Z",
  updatedAt: "2026-12-01T00:00:00.000Z",
  spent: 0,
  reserved: 0,
  periodKey: null,
  ...over,
});

describe("budget data", () => {
  it("fills the bar with spend, then what running calls hold, never past the end", () => {
    expect(budgetFill(budget({ spent: 5, reserved: 1 }))).toEqual({
      spent: 0.5,
      held: 0.1,
      soft: false,
      full: false,
    });
    expect(budgetFill(budget({ spent: 8.5, reserved: 3 }))).toMatchObject({
      spent: 0.85,
      soft: true,
      full: false,
    });
    expect(budgetFill(budget({ spent: 8.5, reserved: 3 })).held).toBeCloseTo(0.15, 10);
    expect(budgetFill(budget({ spent: 12, reserved: 1 }))).toEqual({
      spent: 1,
      held: 0,
      soft: true,
      full: true,
    });
  });

  it("formats amounts in the budget's unit and names what a budget caps", () => {
    expect(formatBudgetAmount("usd", 12.5)).toBe("$12.50");
    expect(formatBudgetAmount("usd", 0.0123)).toBe("$0.0123");
    expect(formatBudgetAmount("usd", 0.9)).toBe("$0.90");
    expect(formatBudgetAmount("tokens", 1234567.4)).toBe("1,234,567 tokens");
    const names = { project: (id: string) => (id === "p1" ? "Shop" : undefined) };
    expect(budgetTitle(budget({}), names)).toBe("Whole org · per month");
    expect(budgetTitle(budget({ scope: "project", scopeId: "p1", period: "run" }), names)).toBe(
      "Project Shop · per run",
    );
    expect(budgetTitle(budget({ scope: "project", scopeId: "gone" }), names)).toBe(
      "Project (deleted) · per month",
    );
  });
});
