import { parseEgressAllow } from "@kiln/agent";
import { describe, expect, it } from "vitest";
import { filterRules } from "./network.ts";

describe("the egress filter", () => {
  it("lets the operator's exempt IPv4 addresses and ranges through before the rejects; names and IPv6 stay out", () => {
    const rules = filterRules(
      "egress",
      parseEgressAllow("192.0.2.2:8443 10.5.0.0/16 203.0.113.7 git.example.com:443 [fd00::1]:80"),
    ).split("\n");
    const accept = [
      "-A OUTPUT -d 192.0.2.2/32 -p tcp --dport 8443 -j ACCEPT",
      "-A OUTPUT -d 10.5.0.0/16 -j ACCEPT",
      "-A OUTPUT -d 203.0.113.7/32 -j ACCEPT",
    ];
    for (const line of accept) expect(rules).toContain(line);
    const firstReject = rules.findIndex((l) => l.includes("-j REJECT"));
    expect(Math.max(...accept.map((l) => rules.indexOf(l)))).toBeLessThan(firstReject);
    expect(rules.join("\n")).not.toMatch(/example\.com|fd00/);
    expect(rules).toContain("-A OUTPUT -d 10.0.0.0/8 -p tcp -j REJECT --reject-with tcp-reset");
  });

  it("exempts nothing without network", () => {
    const rules = filterRules("none", parseEgressAllow("192.0.2.2:8443"));
    expect(rules).not.toMatch(/192\.0\.2\.2/);
  });
});
