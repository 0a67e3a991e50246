import { describe, expect, it } from "vitest";
import {
  AddressPolicy,
  EgressRefusedError,
  EgressUnresolvedError,
  hostInterfaceAddresses,
  parseEgressAllow,
  type ResolvedAddress,
} from "./address-policy.ts";
import { canonicalAddress, isPublicAddress } from "./address-ranges.ts";

/** A resolver that never asks DNS: names map to fixed answers, and every question is recorded. */
function stubResolver(names: Record<string, string[]>) {
  const asked: string[] = [];
  const resolve = async (host: string): Promise<ResolvedAddress[]> => {
    asked.push(host);
    const answers = names[host];
    if (!answers) throw new Error("ENOTFOUND");
    return answers.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
  };
  return { resolve, asked };
}

const refusedPin = (policy: AddressPolicy, url: string) => policy.pin(new URL(url)).then(() => "allowed");

describe("isPublicAddress", () => {
  it.each([
    ["8.8.8.8", true],
    ["1.1.1.1", true],
    ["2606:4700:4700::1111", true],
    ["::ffff:8.8.8.8", true],
    ["127.0.0.1", false],
    ["10.255.255.255", false],
    ["100.127.0.1", false],
    ["100.128.0.1", true],
    ["172.31.255.255", false],
    ["172.32.0.1", true],
    ["169.254.169.254", false],
    ["192.0.2.2", false],
    ["198.51.100.7", false],
    ["203.0.113.9", false],
    ["198.18.0.1", false],
    ["198.19.255.255", false],
    ["198.20.0.1", true],
    ["224.0.0.1", false],
    ["255.255.255.255", false],
    ["0.0.0.0", false],
    ["::", false],
    ["::1", false],
    ["fc00::1", false],
    ["fe80::1", false],
    ["ff02::1", false],
    ["2001:db8::1", false],
    ["::ffff:10.0.0.1", false],
    ["::ffff:7f00:1", false],
    ["::ffff:0:7f00:1", false],
    ["64:ff9b::a00:1", false],
    ["64:ff9b:1::808:808", false],
    ["2002:7f00:1::", false],
    ["not-an-ip", false],
  ])("%s → %s", (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });

  it("spells an address one way: embedded IPv4 as IPv4, IPv6 expanded", () => {
    expect(canonicalAddress("[::ffff:127.0.0.1]")).toBe("127.0.0.1");
    expect(canonicalAddress("::ffff:c000:202")).toBe("192.0.2.2");
    expect(canonicalAddress("FD00::2")).toBe("fd00:0:0:0:0:0:0:2");
    expect(canonicalAddress("fe80::1%eth0")).toBe("fe80:0:0:0:0:0:0:1");
    expect(canonicalAddress("example.com")).toBeUndefined();
  });
});

describe("AddressPolicy", () => {
  it("refuses every address of this host's interfaces, asked again on each check", async () => {
    let own = ["1.2.3.4"];
    const policy = new AddressPolicy({ hostAddresses: () => own });
    await expect(refusedPin(policy, "http://1.2.3.4/")).rejects.toThrow(
      "1.2.3.4 is an address of this server itself; only public addresses can be fetched",
    );
    await expect(refusedPin(policy, "http://[::ffff:1.2.3.4]:8080/")).rejects.toThrow(EgressRefusedError);
    await expect(refusedPin(policy, "http://1.2.3.5/")).resolves.toBe("allowed");
    own = ["1.2.3.5"];
    await expect(refusedPin(policy, "http://1.2.3.5/")).rejects.toThrow(EgressRefusedError);
    await expect(refusedPin(policy, "http://1.2.3.4/")).resolves.toBe("allowed");
  });

  it("reads the real interfaces by default, loopback and the non-loopback ones", () => {
    const own = hostInterfaceAddresses();
    expect(own).toContain("127.0.0.1");
    const policy = new AddressPolicy();
    for (const address of own) expect(policy.refusal(address, 80), address).toBeDefined();
  });

  it("handles the spellings of loopback and 'this host' the URL parser accepts", async () => {
    const { resolve, asked } = stubResolver({});
    const policy = new AddressPolicy({ resolve, hostAddresses: () => [] });
    for (const url of [
      "http://2130706433/",
      "http://0x7f000001/",
      "http://0177.0.0.1/",
      "http://127.1/",
      "http://0.0.0.0/",
      "http://0/",
      "http://[::]/",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]/",
      "http://[64:ff9b::169.254.169.254]/",
      "http://169.254.169.254/latest/meta-data/",
      "http://100.64.0.1/",
      "http://198.18.0.1/",
      "http://192.0.2.1/",
    ]) {
      await expect(refusedPin(policy, url), url).rejects.toThrow(EgressRefusedError);
    }
    expect(asked).toEqual([]);
  });

  it("refuses a name when any of its answers is refused, and says which", async () => {
    const { resolve } = stubResolver({ "mixed.test": ["8.8.8.8", "10.0.0.5"], "ok.test": ["8.8.8.8"] });
    const policy = new AddressPolicy({ resolve, hostAddresses: () => [] });
    await expect(refusedPin(policy, "https://mixed.test/v1")).rejects.toThrow(
      "mixed.test resolves to 10.0.0.5, a private, loopback, link-local or otherwise internal address",
    );
    await expect(policy.pin(new URL("https://ok.test/v1"))).resolves.toEqual([
      { address: "8.8.8.8", family: 4 },
    ]);
    await expect(refusedPin(policy, "https://nowhere.test/")).rejects.toThrow(EgressUnresolvedError);
    await expect(refusedPin(policy, "ftp://ok.test/")).rejects.toThrow(/only http and https/);
  });

  it("lets the operator exempt a host and port, a name, or a range — nothing more", async () => {
    const { resolve } = stubResolver({ "gpu.internal": ["10.9.9.9"], "other.internal": ["10.9.9.9"] });
    const policy = new AddressPolicy({
      resolve,
      hostAddresses: () => [],
      allow: parseEgressAllow("127.0.0.1:4010, gpu.internal:11434 fd12::/16"),
    });
    await expect(refusedPin(policy, "http://127.0.0.1:4010/v1")).resolves.toBe("allowed");
    await expect(refusedPin(policy, "http://[::ffff:127.0.0.1]:4010/v1")).resolves.toBe("allowed");
    await expect(refusedPin(policy, "http://127.0.0.1:4011/v1")).rejects.toThrow(EgressRefusedError);
    await expect(refusedPin(policy, "http://gpu.internal:11434/api")).resolves.toBe("allowed");
    await expect(refusedPin(policy, "http://gpu.internal:22/")).rejects.toThrow(EgressRefusedError);
    await expect(refusedPin(policy, "http://other.internal:11434/")).rejects.toThrow(EgressRefusedError);
    await expect(refusedPin(policy, "http://[fd12::5]/")).resolves.toBe("allowed");
    await expect(refusedPin(policy, "http://[fd13::5]/")).rejects.toThrow(EgressRefusedError);
  });

  it("reads KILN_EGRESS_ALLOW entries and names a bad one", () => {
    expect(
      parseEgressAllow(" 127.0.0.1:4010,[::1]:8080 http://Ollama.lan https://x.test:8443 10.0.0.0/8 ::1 "),
    ).toEqual([
      { kind: "host", host: "127.0.0.1", port: 4010 },
      { kind: "host", host: "0:0:0:0:0:0:0:1", port: 8080 },
      { kind: "host", host: "ollama.lan", port: 80 },
      { kind: "host", host: "x.test", port: 8443 },
      { kind: "range", net: "10.0.0.0", bits: 8 },
      { kind: "host", host: "0:0:0:0:0:0:0:1" },
    ]);
    expect(parseEgressAllow("")).toEqual([]);
    for (const bad of ["10.0.0.0/33", "::ffff:10.0.0.0/104", "host:99999", "a b/c", "ftp://x", "[name]:80"]) {
      expect(() => parseEgressAllow(bad), bad).toThrow(/is not a host/);
    }
  });
});
