import type { DeployTargetKind } from "@kiln/protocol";

/**
 * One external host's deploy flow (ADR 0024): upload the files the host does not have yet (by digest), create
 * the deployment, poll it until it is live or failed, answer its address. An adapter holds no state; what it
 * needs comes in `TargetContext` (credentials, the operator's API base URL, the egress-checked fetch).
 */
export interface TargetAdapter {
  readonly kind: DeployTargetKind;
  deploy(ctx: TargetContext, input: DeployInput): Promise<DeployResult>;
}

export interface TargetContext {
  /** The provider API's root, e.g. https://api.vercel.com (operator config, no trailing slash). */
  apiUrl: string;
  token: string;
  teamId: string | null;
  accountId: string | null;
  /** Every request goes through the server's egress address policy. */
  fetch: typeof fetch;
  /** Pause between status polls. */
  pollMs: number;
  /** Polling gives up after this long. */
  timeoutMs: number;
  signal: AbortSignal;
  log(line: string): void;
}

/** A file of the artifact: its path (`assets/app.js`, no leading slash) and its bytes, read when needed. */
export interface TargetFile {
  path: string;
  size: number;
  read(): Promise<Buffer>;
}

export interface DeployInput {
  /** The provider-side project or site: the one made by an earlier deployment, else the name to make. */
  project: { existing: string } | { create: string };
  /** Told the provider-side name or id as soon as one is made, so a failed deployment does not make another. */
  created(providerProject: string): Promise<void>;
  files: TargetFile[];
  /** A single-page app: unknown paths answer index.html (each host has its own way of saying so). */
  spa: boolean;
}

export interface DeployResult {
  /** What to remember for the next deployment: the provider's project name or site id. */
  providerProject: string;
  deploymentId: string;
  url: string;
}

/** A failure the deployment's log and error can show as is: it never holds a token. */
export class TargetError extends Error {
  /** The provider's HTTP status, when it answered. */
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

/** The remembered project or site is not there any more (removed on the provider's side). */
export class ProjectGone extends TargetError {}

/** A file made by Kiln for the host (its SPA rule), unless the build already has one of that name. */
export function withGenerated(files: TargetFile[], path: string, text: string): TargetFile[] {
  if (files.some((f) => f.path === path)) return files;
  const bytes = Buffer.from(text, "utf8");
  return [...files, { path, size: bytes.length, read: async () => bytes }];
}
