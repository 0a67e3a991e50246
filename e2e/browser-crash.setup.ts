import { beforeEach } from "vitest";
import { reviveCrashedBrowsers } from "./chromium.ts";

// A test retried because Chromium died (vitest.config.ts, e2e project) starts with a live browser again.
beforeEach(async () => {
  await reviveCrashedBrowsers();
});
