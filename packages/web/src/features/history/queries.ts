/** The project's history (checkpoints), refetched after a restore and when a run ends. */
export const historyKey = (org: string, project: string) => ["orgs", org, "projects", project, "history"];
