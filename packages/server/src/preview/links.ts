import type { PreviewLinks as Links } from "../devserver/service.ts";
import type { PreviewGrant, PreviewTokens } from "./access.ts";
import { type PreviewAddress, previewOrigin } from "./host.ts";

/** Where a project's preview lives, and the signed hand-off that signs its viewer in there. */
export class PreviewLinks implements Links {
  readonly #tokens: PreviewTokens;
  readonly #publicUrl: string;
  readonly #appDomain: string;

  constructor(tokens: PreviewTokens, publicUrl: string, appDomain: string) {
    this.#tokens = tokens;
    this.#publicUrl = publicUrl;
    this.#appDomain = appDomain;
  }

  origin(address: PreviewAddress): string {
    return previewOrigin(this.#publicUrl, this.#appDomain, address);
  }

  handoff(grant: PreviewGrant): Promise<string> {
    return this.#tokens.handoff(grant);
  }
}
