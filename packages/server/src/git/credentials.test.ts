import { describe, expect, it } from "vitest";
import { KilnError } from "../errors/errors.ts";
import { tokenFromHeader } from "./credentials.ts";

const basic = (s: string) => `Basic ${Buffer.from(s).toString("base64")}`;

describe("tokenFromHeader", () => {
  it("takes the password of Basic credentials, whatever the username", () => {
    expect(tokenFromHeader(basic("anyone:kiln_pat_abc"))).toBe("kiln_pat_abc");
    expect(tokenFromHeader(basic(":kiln_pat_abc"))).toBe("kiln_pat_abc");
    expect(tokenFromHeader(basic("user:pa:ss"))).toBe("pa:ss");
  });

  it("takes a token given as the username alone", () => {
    expect(tokenFromHeader(basic("kiln_pat_abc:"))).toBe("kiln_pat_abc");
    expect(tokenFromHeader(basic("kiln_pat_abc"))).toBe("kiln_pat_abc");
  });

  it("takes Bearer tokens", () => {
    expect(tokenFromHeader("Bearer kiln_job_x")).toBe("kiln_job_x");
    expect(tokenFromHeader("bearer   kiln_job_x  ")).toBe("kiln_job_x");
  });

  it("answers missing or malformed credentials with 401 and a Basic challenge", () => {
    for (const header of [undefined, "", "  ", basic(":"), "Basic !!!", "Digest x", "Bearer a b", "Bearer"]) {
      let error: unknown;
      try {
        tokenFromHeader(header);
      } catch (e) {
        error = e;
      }
      expect(error, String(header)).toBeInstanceOf(KilnError);
      expect((error as KilnError).status).toBe(401);
      expect((error as KilnError).headers).toEqual({ "www-authenticate": 'Basic realm="Kiln"' });
    }
  });
});
