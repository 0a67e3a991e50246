import { describe, expect, it } from "vitest";
import { oidcProvidersFrom } from "./sso-providers.ts";

describe("single sign-on providers from the environment", () => {
  it("reads none by default, Google by its two variables, and named OpenID providers in order", () => {
    expect(oidcProvidersFrom({})).toEqual([]);
    const providers = oidcProvidersFrom({
      KILN_GOOGLE_CLIENT_ID: "g-id",
      KILN_GOOGLE_CLIENT_SECRET: "g-secret",
      KILN_OIDC_PROVIDERS: " okta, key-cloak ",
      KILN_OIDC_OKTA_ISSUER: "https://acme.okta.com",
      KILN_OIDC_OKTA_CLIENT_ID: "o-id",
      KILN_OIDC_OKTA_CLIENT_SECRET: "o-secret",
      KILN_OIDC_OKTA_NAME: "Acme Okta",
      KILN_OIDC_KEY_CLOAK_ISSUER: "https://sso.acme.test/realms/acme",
      KILN_OIDC_KEY_CLOAK_CLIENT_ID: "k-id",
      KILN_OIDC_KEY_CLOAK_CLIENT_SECRET: "k-secret",
    });
    expect(providers.map((p) => [p.id, p.name, p.issuer])).toEqual([
      ["google", "Google", "https://accounts.google.com"],
      ["okta", "Acme Okta", "https://acme.okta.com"],
      ["key-cloak", "key-cloak", "https://sso.acme.test/realms/acme"],
    ]);
  });

  it("reads GitHub (github.com by default, or an Enterprise Server's web and API roots)", () => {
    const [dotcom] = oidcProvidersFrom({ KILN_GITHUB_CLIENT_ID: "i", KILN_GITHUB_CLIENT_SECRET: "s" });
    expect(dotcom).toMatchObject({
      id: "github",
      kind: "github",
      issuer: "https://github.com",
      apiUrl: "https://api.github.com",
    });
    const [ghes] = oidcProvidersFrom({
      KILN_GITHUB_CLIENT_ID: "i",
      KILN_GITHUB_CLIENT_SECRET: "s",
      KILN_GITHUB_URL: "https://git.acme.test/",
    });
    expect(ghes).toMatchObject({ issuer: "https://git.acme.test", apiUrl: "https://git.acme.test/api/v3" });
    expect(() => oidcProvidersFrom({ KILN_GITHUB_CLIENT_SECRET: "s" })).toThrow(/KILN_GITHUB_CLIENT_ID/);
  });

  it("refuses a half-configured provider, naming what is missing, and bad ids or issuers", () => {
    expect(() => oidcProvidersFrom({ KILN_GOOGLE_CLIENT_ID: "x" })).toThrow(/KILN_GOOGLE_CLIENT_SECRET/);
    expect(() =>
      oidcProvidersFrom({ KILN_OIDC_PROVIDERS: "okta", KILN_OIDC_OKTA_ISSUER: "https://o" }),
    ).toThrow(/KILN_OIDC_OKTA_CLIENT_ID, KILN_OIDC_OKTA_CLIENT_SECRET/);
    expect(() => oidcProvidersFrom({ KILN_OIDC_PROVIDERS: "Bad_Id" })).toThrow(/KILN_OIDC_PROVIDERS/);
    expect(() => oidcProvidersFrom({ KILN_OIDC_PROVIDERS: "a,a" })).toThrow(/twice/);
    expect(() =>
      oidcProvidersFrom({
        KILN_OIDC_PROVIDERS: "x",
        KILN_OIDC_X_ISSUER: "not a url",
        KILN_OIDC_X_CLIENT_ID: "i",
        KILN_OIDC_X_CLIENT_SECRET: "s",
      }),
    ).toThrow(/KILN_OIDC_X_ISSUER/);
  });
});
