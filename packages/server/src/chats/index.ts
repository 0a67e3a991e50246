import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { type AddressPolicy, createDefaultTools, type ToolDefinition } from "@kiln/agent";
import type { ApprovalMode } from "@kiln/protocol";
import type { FastifyBaseLogger } from "fastify";
import type { AgentService } from "../agents/service.ts";
import type { KilnConfig } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { DevServerService } from "../devserver/service.ts";
import type { FileService } from "../files/service.ts";
import type { Limits } from "../limits/index.ts";
import type { McpServerService } from "../mcp-client/service.ts";
import { McpClients } from "../mcp-client/toolset.ts";
import type { OrgAccess } from "../orgs/service.ts";
import type { ProjectEnvService } from "../projects/env.ts";
import type { ProjectService } from "../projects/service.ts";
import type { ProjectStorage } from "../projects/storage.ts";
import type { ProjectTouches } from "../projects/touch.ts";
import type { SandboxDriver } from "../sandbox/driver.ts";
import { ChatEngine, type CheckpointSink } from "./engine.ts";
import { type BrowserErrorSource, ProjectContext } from "./project-context.ts";
import { ChatService, type ModelSource } from "./service.ts";
import { ProjectStarter } from "./start-project.ts";
import { ProjectWorkspace } from "./workspace.ts";

export interface ChatsDeps {
  database: Database;
  /** Agent definitions: what each chat's turns are told and may use (ADR 0035). */
  agents: AgentService;
  config: KilnConfig;
  log: FastifyBaseLogger;
  embedded: boolean;
  projects: ProjectService;
  /** The project's environment variables, given to the agent's commands as to the dev server. */
  env: ProjectEnvService;
  files: FileService;
  devServer: DevServerService;
  driver: SandboxDriver;
  storage: ProjectStorage;
  models: ModelSource;
  history: CheckpointSink;
  previewErrors: BrowserErrorSource;
  /** The server's egress address policy, for web_fetch. */
  egress: AddressPolicy;
  /** Turns per org and user; the agent's commands count as the org's sandboxes. */
  limits?: Limits;
  /** Told when a turn committed changes (its shell commands' writes are announced nowhere else). */
  touches?: Pick<ProjectTouches, "touch">;
  /** The templates this server has (the prompt-first start picks one). */
  templateNames: () => readonly string[];
  /** The org's MCP servers (ADR 0039), for agents that name some. */
  mcpServers: McpServerService;
}

/** Builds the chat engine and service from the server's parts (kept out of kiln.ts to keep it short). */
export function createChats(d: ChatsDeps): {
  chats: ChatService;
  engine: ChatEngine;
  starter: ProjectStarter;
} {
  const engine = new ChatEngine({
    database: d.database,
    log: d.log,
    owner: `${hostname()}:${process.pid}:${randomUUID()}`,
    embedded: d.embedded,
    approvalTimeoutMs: d.config.agent.approvalTimeoutMs,
    maxSteps: d.config.agent.maxSteps,
    checkpoints: touching(d.history, d.touches),
    limits: d.limits?.config,
  });
  const context = new ProjectContext(d.files, d.devServer, d.previewErrors);
  const tools = createDefaultTools({ webFetch: { policy: d.egress } });
  const guarded = (access: OrgAccess, projectId: string): SandboxDriver =>
    d.limits
      ? d.limits.guard({ kind: "command", orgId: access.org.id, projectId, userId: access.userId }, d.driver)
      : d.driver;
  const mcp = new McpClients({
    database: d.database,
    servers: d.mcpServers,
    egress: d.egress,
    log: d.log,
    // A stdio server is one of the agent's commands: the project's sandbox, its user, its limits; it may
    // reach the public internet as a command allowed the network may.
    sandboxFor: async (access, project) => ({
      driver: guarded(access, project.id),
      spec: {
        projectId: project.id,
        workspaceDir: d.storage.projectDir(access.org.id, project.id),
        network: "egress",
        env: await d.env.forProject(access.org, project.id),
      },
    }),
  });
  const chats = new ChatService({
    database: d.database,
    projects: d.projects,
    engine,
    agents: d.agents,
    models: d.models,
    // Only the agent's tools: the loop finds a call's tool among those it was given, so a call to any other
    // is refused as unknown, never run. Plan mode: the loop refuses mutating tools anyway; not offering them
    // keeps the model from trying.
    toolsFor: (mode: ApprovalMode, allowed: readonly string[]): ToolDefinition[] =>
      tools.filter((t) => allowed.includes(t.name) && (mode !== "plan" || !t.mutates)),
    workspaceFor: (access, project) =>
      new ProjectWorkspace({
        access,
        project,
        files: d.files,
        driver: guarded(access, project.id),
        sandbox: async (network) => ({
          projectId: project.id,
          workspaceDir: d.storage.projectDir(access.org.id, project.id),
          network: network ? "egress" : "none",
          env: await d.env.forProject(access.org, project.id),
        }),
        info: () => context.info(access, project),
        previewStatus: () => context.previewStatus(access, project),
      }),
    mcpToolsFor: (access, project, ids) => mcp.toolsFor(access, project, ids),
    guideFor: (access, project) => context.guide(access, project),
    errorsFor: (access, project) => context.errorReport(access, project),
  });
  const starter = new ProjectStarter({ projects: d.projects, chats, templates: d.templateNames });
  return { chats, engine, starter };
}

function touching(history: CheckpointSink, touches: ChatsDeps["touches"]): CheckpointSink {
  return {
    async checkpoint(ctx, input) {
      const saved = await history.checkpoint(ctx, input);
      if (saved) touches?.touch(ctx.orgId, ctx.projectId);
      return saved;
    },
  };
}
