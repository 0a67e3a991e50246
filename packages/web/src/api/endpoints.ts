import type {
  ApiToken,
  ApprovalDecision,
  AutomationRule,
  Chat,
  ChatWithMessages,
  CheckpointDiff,
  CheckpointPage,
  CreateChatBody,
  CreatedWorkerToken,
  CreateLlmProviderBody,
  CreateRuleBody,
  CreateStatusBody,
  CreateTaskBody,
  CreateWorkerTokenBody,
  EmailVerified,
  FileContent,
  FileInfo,
  FileTree,
  FixErrorsBody,
  FixErrorsResponse,
  Invitation,
  Job,
  LlmCallPage,
  LlmModelList,
  LlmPrice,
  LlmProvider,
  LlmSettings,
  LlmUsageGroupBy,
  LlmUsageReport,
  LogLine,
  Me,
  Member,
  MoveTaskBody,
  Org,
  PreviewErrorList,
  Project,
  PublicConfig,
  RestoreResult,
  ReviewDecisionBody,
  ReviewDecisionResult,
  Role,
  RuntimeStatus,
  SearchResult,
  SendMessageBody,
  SendMessageResponse,
  Session,
  Task,
  TaskActivity,
  TaskComment,
  TaskReview,
  Template,
  Terminal,
  UpdateChatBody,
  UpdateLlmProviderBody,
  UpdateLlmSettingsBody,
  UpdateRuleBody,
  UpdateStatusBody,
  UpdateTaskBody,
  UpsertLlmPriceBody,
  VerificationSent,
  Worker,
  WorkerToken,
  Workflow,
} from "@kiln/protocol";
import { http } from "./client.ts";

/** Every API call the studio makes, typed from the protocol package. Paths are built here and nowhere else. */

const e = encodeURIComponent;
const orgPath = (org: string) => `/api/orgs/${e(org)}`;
const projectPath = (org: string, project: string) => `${orgPath(org)}/projects/${e(project)}`;
const taskPath = (org: string, project: string, taskId: string) =>
  `${projectPath(org, project)}/tasks/${e(taskId)}`;
const chatPath = (org: string, project: string, chatId: string) =>
  `${projectPath(org, project)}/chats/${e(chatId)}`;

export interface Ok {
  ok: true;
}

export const api = {
  config: () => http.get<PublicConfig>("/api/config"),

  auth: {
    me: () => http.get<Me>("/api/auth/me"),
    signup: (body: { email: string; password: string; name?: string }) =>
      http.post<Session>("/api/auth/signup", body),
    login: (body: { email: string; password: string }) => http.post<Session>("/api/auth/login", body),
    logout: () => http.post<Ok>("/api/auth/logout"),
    tokens: () => http.get<ApiToken[]>("/api/auth/tokens"),
    createToken: (body: { name: string; expiresInDays?: number }) =>
      http.post<ApiToken & { token: string }>("/api/auth/tokens", body),
    revokeToken: (id: string) => http.delete<Ok>(`/api/auth/tokens/${e(id)}`),
    sendVerification: () => http.post<VerificationSent>("/api/auth/verify-email/send"),
    verifyCode: (code: string) => http.post<EmailVerified>("/api/auth/verify-email/code", { code }),
    verifyLink: (token: string) => http.post<EmailVerified>("/api/auth/verify-email", { token }),
  },

  orgs: {
    list: () => http.get<Org[]>("/api/orgs"),
    get: (org: string) => http.get<Org>(orgPath(org)),
    create: (body: { name: string; slug: string }) => http.post<Org>("/api/orgs", body),
    update: (org: string, body: { name?: string; slug?: string }) => http.patch<Org>(orgPath(org), body),
    remove: (org: string) => http.delete<Ok>(orgPath(org)),
    members: (org: string) => http.get<Member[]>(`${orgPath(org)}/members`),
    setRole: (org: string, userId: string, role: Role) =>
      http.patch<Member>(`${orgPath(org)}/members/${e(userId)}`, { role }),
    removeMember: (org: string, userId: string) => http.delete<Ok>(`${orgPath(org)}/members/${e(userId)}`),
    invitations: (org: string) => http.get<Invitation[]>(`${orgPath(org)}/invitations`),
    invite: (org: string, body: { email: string; role: Role }) =>
      http.post<Invitation & { url: string; emailSent: boolean }>(`${orgPath(org)}/invitations`, body),
    revokeInvitation: (org: string, id: string) => http.delete<Ok>(`${orgPath(org)}/invitations/${e(id)}`),
  },

  invitations: {
    preview: (token: string) =>
      http.get<{ orgName: string; orgSlug: string; email: string; role: Role; expiresAt: string }>(
        `/api/invitations/${e(token)}`,
      ),
    accept: (token: string) =>
      http.post<{ orgId: string; role: Role }>(`/api/invitations/${e(token)}/accept`),
  },

  templates: () => http.get<Template[]>("/api/templates"),

  projects: {
    list: (org: string) => http.get<Project[]>(`${orgPath(org)}/projects`),
    get: (org: string, project: string) => http.get<Project>(projectPath(org, project)),
    // The workspace opens the preview next: start the dev server now rather than on its first request.
    create: (org: string, body: { name: string; slug?: string; description?: string; template: string }) =>
      http.post<Project>(`${orgPath(org)}/projects`, { ...body, startDevServer: true }),
    update: (org: string, project: string, body: { name?: string; description?: string }) =>
      http.patch<Project>(projectPath(org, project), body),
    remove: (org: string, project: string) => http.delete<Ok>(projectPath(org, project)),
  },

  files: {
    tree: (org: string, project: string) => http.get<FileTree>(`${projectPath(org, project)}/files/tree`),
    /** Server-sent events: the paths that change, by anyone (for EventSource). */
    eventsUrl: (org: string, project: string) => `${projectPath(org, project)}/files/events`,
    read: (org: string, project: string, path: string, signal?: AbortSignal) =>
      http.get<FileContent>(`${projectPath(org, project)}/files/content`, {
        query: { path, encoding: "auto" },
        ...(signal ? { signal } : {}),
      }),
    write: (
      org: string,
      project: string,
      body: {
        path: string;
        content: string;
        expectedVersion?: string;
        createOnly?: boolean;
        createParents?: boolean;
      },
    ) => http.put<FileInfo>(`${projectPath(org, project)}/files/content`, body),
    move: (org: string, project: string, from: string, to: string) =>
      http.post<FileInfo>(`${projectPath(org, project)}/files/move`, { from, to, createParents: true }),
    mkdir: (org: string, project: string, path: string) =>
      http.post<FileInfo>(`${projectPath(org, project)}/files/directories`, { path, parents: true }),
    remove: (org: string, project: string, path: string) =>
      http.delete<Ok>(`${projectPath(org, project)}/files`, { query: { path, recursive: true } }),
    searchNames: (org: string, project: string, query: string) =>
      http.get<SearchResult>(`${projectPath(org, project)}/files/search`, {
        query: { query, mode: "name", maxResults: 50 },
      }),
  },

  runtime: {
    status: (org: string, project: string) => http.get<RuntimeStatus>(`${projectPath(org, project)}/runtime`),
    act: (org: string, project: string, action: "start" | "stop" | "restart") =>
      http.post<RuntimeStatus>(`${projectPath(org, project)}/runtime/${action}`),
    logs: (org: string, project: string, since?: number) =>
      http.get<LogLine[]>(`${projectPath(org, project)}/runtime/logs`, { query: { since } }),
    logStreamUrl: (org: string, project: string) => `${projectPath(org, project)}/runtime/logs`,
    previewSession: (org: string, project: string) =>
      http.post<{ url: string; expiresAt: string }>(`${projectPath(org, project)}/preview-session`),
  },

  terminals: {
    create: (org: string, project: string, size: { cols: number; rows: number }) =>
      http.post<Terminal>(`${projectPath(org, project)}/terminals`, size),
    list: (org: string, project: string) => http.get<Terminal[]>(`${projectPath(org, project)}/terminals`),
    kill: (org: string, project: string, id: string) =>
      http.delete<Ok>(`${projectPath(org, project)}/terminals/${e(id)}`),
    socketUrl: (org: string, project: string, id: string) => {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      return `${scheme}//${location.host}${projectPath(org, project)}/terminals/${e(id)}/socket`;
    },
  },

  previewErrors: {
    list: (org: string, project: string) =>
      http.get<PreviewErrorList>(`${projectPath(org, project)}/runtime/errors`),
    clear: (org: string, project: string) => http.delete<Ok>(`${projectPath(org, project)}/runtime/errors`),
    fix: (org: string, project: string, body: FixErrorsBody) =>
      http.post<FixErrorsResponse>(`${projectPath(org, project)}/fix-errors`, body),
  },

  chats: {
    list: (org: string, project: string) => http.get<Chat[]>(`${projectPath(org, project)}/chats`),
    create: (org: string, project: string, body: CreateChatBody) =>
      http.post<Chat>(`${projectPath(org, project)}/chats`, body),
    get: (org: string, project: string, chatId: string) =>
      http.get<ChatWithMessages>(chatPath(org, project, chatId)),
    update: (org: string, project: string, chatId: string, body: UpdateChatBody) =>
      http.patch<Chat>(chatPath(org, project, chatId), body),
    remove: (org: string, project: string, chatId: string) =>
      http.delete<undefined>(chatPath(org, project, chatId)),
    send: (org: string, project: string, chatId: string, body: SendMessageBody) =>
      http.post<SendMessageResponse>(`${chatPath(org, project, chatId)}/messages`, body),
    cancel: (org: string, project: string, chatId: string) =>
      http.post<Chat>(`${chatPath(org, project, chatId)}/cancel`),
    decide: (org: string, project: string, chatId: string, toolCallId: string, decision: ApprovalDecision) =>
      http.post<Chat>(`${chatPath(org, project, chatId)}/approvals`, { toolCallId, decision }),
    resume: (org: string, project: string, chatId: string, messageId: string) =>
      http.post<SendMessageResponse>(`${chatPath(org, project, chatId)}/messages/${e(messageId)}/resume`),
    /** Server-sent events of one turn; `after` replays from that event number on. */
    eventsUrl: (org: string, project: string, chatId: string, messageId: string, after: number) =>
      `${chatPath(org, project, chatId)}/messages/${e(messageId)}/events${after > 0 ? `?after=${after}` : ""}`,
  },

  history: {
    list: (org: string, project: string, before?: string) =>
      http.get<CheckpointPage>(`${projectPath(org, project)}/history`, { query: { before, limit: 50 } }),
    diff: (org: string, project: string, sha: string) =>
      http.get<CheckpointDiff>(`${projectPath(org, project)}/history/${e(sha)}`),
    restore: (org: string, project: string, sha: string, force?: boolean) =>
      http.post<RestoreResult>(`${projectPath(org, project)}/history/${e(sha)}/restore`, { force }),
    undo: (org: string, project: string, messageId: string, force?: boolean) =>
      http.post<RestoreResult>(`${projectPath(org, project)}/undo`, { messageId, force }),
  },

  llm: {
    models: (org: string) => http.get<LlmModelList>(`${orgPath(org)}/llm/models`),
    providers: (org: string) => http.get<LlmProvider[]>(`${orgPath(org)}/llm/providers`),
    createProvider: (org: string, body: CreateLlmProviderBody) =>
      http.post<LlmProvider>(`${orgPath(org)}/llm/providers`, body),
    updateProvider: (org: string, id: string, body: UpdateLlmProviderBody) =>
      http.patch<LlmProvider>(`${orgPath(org)}/llm/providers/${e(id)}`, body),
    removeProvider: (org: string, id: string) => http.delete<Ok>(`${orgPath(org)}/llm/providers/${e(id)}`),
    prices: (org: string) => http.get<LlmPrice[]>(`${orgPath(org)}/llm/prices`),
    setPrice: (org: string, body: UpsertLlmPriceBody) =>
      http.put<LlmPrice>(`${orgPath(org)}/llm/prices`, body),
    removePrice: (org: string, id: string) => http.delete<Ok>(`${orgPath(org)}/llm/prices/${e(id)}`),
    settings: (org: string) => http.get<LlmSettings>(`${orgPath(org)}/llm/settings`),
    updateSettings: (org: string, body: UpdateLlmSettingsBody) =>
      http.patch<LlmSettings>(`${orgPath(org)}/llm/settings`, body),
    calls: (org: string, query: { chatId?: string; projectId?: string; before?: string; limit?: number }) =>
      http.get<LlmCallPage>(`${orgPath(org)}/llm/calls`, { query }),
    usage: (org: string, query: { from?: string; to?: string; groupBy: LlmUsageGroupBy }) =>
      http.get<LlmUsageReport>(`${orgPath(org)}/usage`, { query }),
  },

  tasks: {
    list: (org: string, project: string) => http.get<Task[]>(`${projectPath(org, project)}/tasks`),
    create: (org: string, project: string, body: CreateTaskBody) =>
      http.post<Task>(`${projectPath(org, project)}/tasks`, body),
    get: (org: string, project: string, taskId: string) => http.get<Task>(taskPath(org, project, taskId)),
    update: (org: string, project: string, taskId: string, body: UpdateTaskBody) =>
      http.patch<Task>(taskPath(org, project, taskId), body),
    remove: (org: string, project: string, taskId: string) =>
      http.delete<undefined>(taskPath(org, project, taskId)),
    move: (org: string, project: string, taskId: string, body: MoveTaskBody) =>
      http.post<Task>(`${taskPath(org, project, taskId)}/move`, body),
    comments: (org: string, project: string, taskId: string) =>
      http.get<TaskComment[]>(`${taskPath(org, project, taskId)}/comments`),
    comment: (org: string, project: string, taskId: string, body: string) =>
      http.post<TaskComment>(`${taskPath(org, project, taskId)}/comments`, { body }),
    activity: (org: string, project: string, taskId: string) =>
      http.get<TaskActivity[]>(`${taskPath(org, project, taskId)}/activity`),
    review: (org: string, project: string, taskId: string) =>
      http.get<TaskReview>(`${taskPath(org, project, taskId)}/review`),
    decide: (org: string, project: string, taskId: string, body: ReviewDecisionBody) =>
      http.post<ReviewDecisionResult>(`${taskPath(org, project, taskId)}/review`, body),
    workflow: (org: string, project: string) => http.get<Workflow>(`${projectPath(org, project)}/workflow`),
    addStatus: (org: string, project: string, body: CreateStatusBody) =>
      http.post<Workflow>(`${projectPath(org, project)}/workflow/statuses`, body),
    updateStatus: (org: string, project: string, statusId: string, body: UpdateStatusBody) =>
      http.patch<Workflow>(`${projectPath(org, project)}/workflow/statuses/${e(statusId)}`, body),
    removeStatus: (org: string, project: string, statusId: string) =>
      http.delete<Workflow>(`${projectPath(org, project)}/workflow/statuses/${e(statusId)}`),
    rules: (org: string, project: string) =>
      http.get<AutomationRule[]>(`${projectPath(org, project)}/automation/rules`),
    createRule: (org: string, project: string, body: CreateRuleBody) =>
      http.post<AutomationRule>(`${projectPath(org, project)}/automation/rules`, body),
    updateRule: (org: string, project: string, ruleId: string, body: UpdateRuleBody) =>
      http.patch<AutomationRule>(`${projectPath(org, project)}/automation/rules/${e(ruleId)}`, body),
    removeRule: (org: string, project: string, ruleId: string) =>
      http.delete<undefined>(`${projectPath(org, project)}/automation/rules/${e(ruleId)}`),
  },

  jobs: {
    forProject: (org: string, projectId: string) =>
      http.get<Job[]>(`${orgPath(org)}/jobs`, { query: { projectId, limit: 200 } }),
    forTask: (org: string, taskId: string) => http.get<Job[]>(`${orgPath(org)}/jobs`, { query: { taskId } }),
    cancel: (org: string, jobId: string) => http.post<Job>(`${orgPath(org)}/jobs/${e(jobId)}/cancel`),
    /** Server-sent events of one job; `after` replays from that event number on. */
    eventsUrl: (org: string, jobId: string, after: number) =>
      `${orgPath(org)}/jobs/${e(jobId)}/events${after > 0 ? `?after=${after}` : ""}`,
  },

  workers: {
    list: (org: string) => http.get<Worker[]>(`${orgPath(org)}/workers`),
    tokens: (org: string) => http.get<WorkerToken[]>(`${orgPath(org)}/workers/tokens`),
    createToken: (org: string, body: CreateWorkerTokenBody) =>
      http.post<CreatedWorkerToken>(`${orgPath(org)}/workers/tokens`, body),
    revokeToken: (org: string, tokenId: string) =>
      http.delete<Ok>(`${orgPath(org)}/workers/tokens/${e(tokenId)}`),
  },
};
