import { describe, expect, it } from "vitest";
import { describeAgent } from "./user-agent.ts";

describe("describeAgent", () => {
  it("names the browser and system of common agents", () => {
    expect(
      describeAgent(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
      ),
    ).toBe("Chrome on Linux");
    expect(
      describeAgent("Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:133.0) Gecko/20100101 Firefox/133.0"),
    ).toBe("Firefox on macOS");
    expect(
      describeAgent(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1",
      ),
    ).toBe("Safari on iOS");
  });

  it("falls back to the raw agent, shortened, or says it is unknown", () => {
    expect(describeAgent(null)).toBe("Unknown browser");
    expect(describeAgent("x".repeat(100))).toBe("x".repeat(60));
  });
});
