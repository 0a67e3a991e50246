import { type AddressPolicy, allowEntryForUrl, createEgressFetch } from "@kiln/agent";
import * as client from "openid-client";
import type { OidcProviderConfig } from "../../sso-providers.ts";

/** A failed discovery is asked again after this long, not on every sign-in click. */
const RETRY_DISCOVERY_MS = 30_000;

/**
 * The providers' metadata, discovered on first use and kept (`openid-client`: issuer, endpoints, JWKS).
 * Every request to a provider — discovery, token, JWKS, userinfo — goes through the egress fetch: its
 * issuer's own host is exempt (the operator named it, like an instance model provider), anything else it
 * points at is held to the address policy.
 */
export class OidcClients {
  readonly #providers: Map<string, OidcProviderConfig>;
  readonly #egress: AddressPolicy;
  readonly #configs = new Map<string, { at: number; config: Promise<client.Configuration> }>();

  constructor(providers: OidcProviderConfig[], egress: AddressPolicy) {
    this.#providers = new Map(providers.map((p) => [p.id, p]));
    this.#egress = egress;
  }

  provider(id: string): OidcProviderConfig | undefined {
    return this.#providers.get(id);
  }

  get all(): OidcProviderConfig[] {
    return [...this.#providers.values()];
  }

  /** The egress fetch for a provider called without discovery (GitHub): its web and API hosts exempt. */
  fetchFor(provider: OidcProviderConfig): typeof fetch {
    const own = [provider.issuer, provider.apiUrl]
      .filter((u): u is string => !!u)
      .map((u) => allowEntryForUrl(new URL(u)));
    return createEgressFetch(this.#egress.with(own), { maxRedirects: 0 });
  }

  config(provider: OidcProviderConfig): Promise<client.Configuration> {
    const known = this.#configs.get(provider.id);
    if (known) return known.config;
    const config = this.#discover(provider);
    const entry = { at: Date.now(), config };
    this.#configs.set(provider.id, entry);
    config.catch(() => {
      setTimeout(() => {
        if (this.#configs.get(provider.id) === entry) this.#configs.delete(provider.id);
      }, RETRY_DISCOVERY_MS).unref();
    });
    return config;
  }

  async #discover(provider: OidcProviderConfig): Promise<client.Configuration> {
    const issuer = new URL(provider.issuer);
    const fetch = createEgressFetch(this.#egress.with([allowEntryForUrl(issuer)]), { maxRedirects: 0 });
    const insecure = issuer.protocol === "http:";
    const config = await client.discovery(
      issuer,
      provider.clientId,
      provider.clientSecret,
      client.ClientSecretPost(provider.clientSecret),
      {
        // An operator who names an http:// issuer (a provider on the same private network) chose it.
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
        [client.customFetch]: fetch as client.CustomFetch,
        timeout: 10,
      },
    );
    config[client.customFetch] = fetch as client.CustomFetch;
    return config;
  }
}
