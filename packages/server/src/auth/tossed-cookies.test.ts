import { describe, expect, it } from "vitest";
import { cookiePathsFor, duplicatedCookies } from "./tossed-cookies.ts";

describe("tossed cookies", () => {
  it("finds session cookie names sent more than once, however spaced", () => {
    const names = ["kiln_at", "kiln_csrf", "kiln_rt"];
    expect(duplicatedCookies("kiln_at=a; kiln_csrf=b; kiln_at=c", names)).toEqual(["kiln_at"]);
    expect(duplicatedCookies("kiln_at=a;kiln_at =c; x=1; x=2", names)).toEqual(["kiln_at"]);
    expect(duplicatedCookies("kiln_at=a; kiln_rt=b; kiln_csrf=c; other=1; other=2", names)).toEqual([]);
    expect(duplicatedCookies(undefined, names)).toEqual([]);
    // A look-alike is another name (over https the studio reads only the __Host- ones).
    expect(duplicatedCookies("kiln_at=a; __Host-kiln_at=b", ["__Host-kiln_at"])).toEqual([]);
  });

  it("lists every cookie path that matches a request path (RFC 6265 §5.1.4)", () => {
    expect(cookiePathsFor("/")).toEqual(["/"]);
    expect(cookiePathsFor("/api/orgs/x")).toEqual([
      "/",
      "/api",
      "/api/",
      "/api/orgs",
      "/api/orgs/",
      "/api/orgs/x",
    ]);
    expect(cookiePathsFor("/api/")).toEqual(["/", "/api", "/api/"]);
    expect(cookiePathsFor(`/${"a/".repeat(100)}`).length).toBeLessThanOrEqual(24);
  });
});
