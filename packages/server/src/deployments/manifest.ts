/** One file of an artifact: its sha256 (hex) and size. */
export interface ArtifactFile {
  digest: string;
  size: number;
}

/**
 * What a deployment serves: files by path (`index.html`, `assets/app-3f2a1b.js`; `/`-separated, no leading
 * slash), and whether unknown page paths answer `index.html` (a single-page app). Immutable once built.
 */
export interface ArtifactManifest {
  files: Record<string, ArtifactFile>;
  spa: boolean;
  /** A server app (deployments/processes.ts): how it runs, kept with the artifact it was built with. */
  server?: ServerCommand;
}

export interface ServerCommand {
  argv: string[];
  /** GET answers 2xx once it is up. */
  health: string;
}
