import { gitRepoPath } from "@kiln/protocol";

/** The command that clones a project from this Kiln, as it is reached from the browser (`origin`). */
export function cloneCommand(origin: string, org: string, project: string): string {
  return `git clone ${origin.replace(/\/+$/, "")}${gitRepoPath(org, project)}`;
}
