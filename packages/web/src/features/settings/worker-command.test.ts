import { describe, expect, it } from "vitest";
import { workerCommand } from "./worker-command.ts";

describe("workerCommand", () => {
  it("is the CLI line with the server and the token as they are", () => {
    expect(workerCommand("https://kiln.example.com", "kiln_wrk_abc123")).toBe(
      "npm run kiln -- worker --server https://kiln.example.com --token kiln_wrk_abc123 --concurrency 1",
    );
  });

  it("quotes anything a shell would read differently", () => {
    expect(workerCommand("http://x/$(rm -rf ~)", "t'o k")).toBe(
      "npm run kiln -- worker --server 'http://x/$(rm -rf ~)' --token 't'\\''o k' --concurrency 1",
    );
  });
});
