// Hand-built paths, while a section still calls `http` directly; each goes once its calls use `call`.
export const e = encodeURIComponent;
export const orgPath = (org: string) => `/api/orgs/${e(org)}`;
export const projectPath = (org: string, project: string) => `${orgPath(org)}/projects/${e(project)}`;
export const taskPath = (org: string, project: string, taskId: string) =>
  `${projectPath(org, project)}/tasks/${e(taskId)}`;
export const chatPath = (org: string, project: string, chatId: string) =>
  `${projectPath(org, project)}/chats/${e(chatId)}`;

export interface Ok {
  ok: true;
}
