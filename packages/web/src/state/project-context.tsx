import type { Project, Role } from "@kiln/protocol";
import { createContext, type ReactNode, useContext } from "react";

export interface ProjectRef {
  org: string;
  project: string;
  details: Project;
  canWrite: boolean;
  /** The viewer's role in the org, for what only some may do (the board's rules and workflow: admins). */
  role: Role;
}

const Ctx = createContext<ProjectRef | null>(null);

export function ProjectProvider({ value, children }: { value: ProjectRef; children: ReactNode }) {
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

/** The org and project the workspace shows; every panel inside it reads them from here. */
export function useProject(): ProjectRef {
  const v = useContext(Ctx);
  if (!v) throw new Error("useProject outside a workspace");
  return v;
}
