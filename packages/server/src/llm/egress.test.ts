import { APICallError } from "@ai-sdk/provider";
import { AddressPolicy, EgressRefusedError, type ResolvedAddress } from "@kiln/agent";
import { describe, expect, it } from "vitest";
import { assertEgressAllowed, EgressForbiddenError, instancePolicy } from "./egress.ts";
import { describeFailure, isRetryable } from "./errors.ts";

const names: Record<string, string> = { "public.test": "8.8.8.8", "intranet.test": "10.0.0.7" };
const policy = new AddressPolicy({
  resolve: async (host): Promise<ResolvedAddress[]> => {
    const address = names[host];
    if (!address) throw new Error("ENOTFOUND");
    return [{ address, family: 4 }];
  },
  hostAddresses: () => ["192.0.2.2"],
});

describe("egress checks of provider URLs", () => {
  it("refuses with egress_refused (400) what resolves to a refused address, and passes the rest", async () => {
    for (const url of ["http://intranet.test/v1", "http://127.0.0.1:4010/v1", "http://192.0.2.2:8080/v1"]) {
      await expect(assertEgressAllowed(policy, url), url).rejects.toMatchObject({
        code: "egress_refused",
        status: 400,
      });
    }
    await expect(assertEgressAllowed(policy, "https://public.test/v1")).resolves.toBeUndefined();
    // Not resolvable today is not a refusal: the check at connect time still holds.
    await expect(assertEgressAllowed(policy, "https://later.test/v1")).resolves.toBeUndefined();
  });

  it("exempts an instance provider's own host and port, nothing else", async () => {
    const instance = instancePolicy(policy, ["http://127.0.0.1:4010/v1", "http://intranet.test:11434/api"]);
    await expect(assertEgressAllowed(instance, "http://127.0.0.1:4010/v1")).resolves.toBeUndefined();
    await expect(assertEgressAllowed(instance, "http://intranet.test:11434/api")).resolves.toBeUndefined();
    await expect(assertEgressAllowed(instance, "http://127.0.0.1:4011/v1")).rejects.toBeInstanceOf(
      EgressForbiddenError,
    );
    await expect(assertEgressAllowed(instance, "http://intranet.test:22/")).rejects.toBeInstanceOf(
      EgressForbiddenError,
    );
  });

  it("a call refused at connect time (the name moved) is a clean egress_refused, not retried", () => {
    const wrapped = new APICallError({
      message: "Cannot connect to API",
      url: "http://rebind.test/v1/chat/completions",
      requestBodyValues: {},
      cause: new EgressRefusedError("rebind.test", "rebind.test resolves to 10.0.0.7, a private address"),
      isRetryable: true,
    });
    expect(describeFailure(wrapped)).toMatchObject({ code: "egress_refused", status: 502 });
    expect(isRetryable(wrapped)).toBe(false);
  });
});
