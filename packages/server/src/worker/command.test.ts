import { describe, expect, it } from "vitest";
import { localServerUrl } from "./command.ts";

describe("localServerUrl", () => {
  it("dials loopback for a server on every address, else the one address it listens on", () => {
    expect(localServerUrl("0.0.0.0", 4000)).toBe("http://127.0.0.1:4000");
    expect(localServerUrl("::", 4000)).toBe("http://127.0.0.1:4000");
    expect(localServerUrl("127.0.0.1", 4000)).toBe("http://127.0.0.1:4000");
    expect(localServerUrl("10.213.7.1", 4000)).toBe("http://10.213.7.1:4000");
    expect(localServerUrl("::1", 4000)).toBe("http://[::1]:4000");
    expect(localServerUrl("fd00::5", 4000)).toBe("http://[fd00::5]:4000");
  });
});
