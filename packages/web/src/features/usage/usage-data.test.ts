import type { LlmUsageReport } from "@kiln/protocol";
import { describe, expect, it } from "vitest";
import { dayBars, daysBetween, formatUsd, keyedBars, valuesOf } from "./usage-data.ts";

const totals = {
  calls: 1,
  errors: 0,
  inputTokens: 100,
  outputTokens: 40,
  cachedInputTokens: 30,
  costUsd: 0.02,
  unpricedCalls: 0,
};

describe("usage data", () => {
  it("lists every UTC day of a range, the end excluded", () => {
    expect(daysBetween(new Date("2025-02-27T00:00:00Z"), new Date("2025-03-02T00:00:00Z"))).toEqual([
      "2025-02-27",
      "2025-02-28",
      "2025-03-01",
    ]);
  });

  it("fills days without calls with zero bars", () => {
    const report: LlmUsageReport = {
      from: "2025-01-01T00:00:00.000Z",
      to: "2025-01-04T00:00:00.000Z",
      groupBy: "day",
      totals,
      rows: [{ ...totals, key: "2025-01-02" }],
    };
    const bars = dayBars(report, "cost");
    expect(bars.map((b) => [b.key, b.values])).toEqual([
      ["2025-01-01", [0]],
      ["2025-01-02", [0.02]],
      ["2025-01-03", [0]],
    ]);
  });

  it("splits input into fresh and cached tokens", () => {
    expect(valuesOf(totals, "tokens")).toEqual([70, 30, 40]);
  });

  it("orders keyed rows largest first, names them, and drops empty ones", () => {
    const report: LlmUsageReport = {
      from: "2025-01-01T00:00:00.000Z",
      to: "2025-01-02T00:00:00.000Z",
      groupBy: "project",
      totals,
      rows: [
        { ...totals, key: "p1", costUsd: 0.01 },
        { ...totals, key: null, costUsd: 0.5 },
        { ...totals, key: "p2", costUsd: 0 },
      ],
    };
    const bars = keyedBars(report, "cost", (k) => (k ? `project ${k}` : "none"));
    expect(bars.map((b) => b.label)).toEqual(["none", "project p1"]);
  });

  it("keeps calls to models without a price in the cost view, their cost unknown", () => {
    const report: LlmUsageReport = {
      from: "2025-01-01T00:00:00.000Z",
      to: "2025-01-02T00:00:00.000Z",
      groupBy: "model",
      totals,
      rows: [
        { ...totals, key: "fake/free", calls: 29, costUsd: 0, unpricedCalls: 29 },
        { ...totals, key: "openai/mixed", calls: 2, costUsd: 0.5, unpricedCalls: 1 },
      ],
    };
    const bars = keyedBars(report, "cost", (k) => k ?? "none");
    expect(bars.map((b) => [b.label, b.shown, b.detail])).toEqual([
      ["openai/mixed", "$0.50 + unknown", "2 calls · 140 tokens"],
      ["fake/free", "unknown", "29 calls · 140 tokens"],
    ]);
  });

  it("shows small costs with enough digits", () => {
    expect([formatUsd(0), formatUsd(0.0012), formatUsd(3.456), formatUsd(1234)]).toEqual([
      "$0",
      "$0.0012",
      "$3.46",
      "$1234",
    ]);
  });
});
