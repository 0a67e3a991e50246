import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { FastifyBaseLogger } from "fastify";
import type { TaskService } from "../board/tasks/service.ts";
import type { WorkflowService } from "../board/workflows/service.ts";
import type { ChatService } from "../chats/service.ts";
import type { DeploymentService } from "../deployments/service.ts";
import type { FileService } from "../files/service.ts";
import type { Principal } from "../http/principal.ts";
import type { OrgService } from "../orgs/service.ts";
import type { ProjectService } from "../projects/service.ts";
import { VERSION } from "../version.ts";
import { boardTools } from "./board-tools.ts";
import { chatTools } from "./chat-tools.ts";
import { deploymentTools } from "./deployment-tools.ts";
import { fileTools } from "./file-tools.ts";
import { projectTools } from "./project-tools.ts";
import { resources } from "./resources.ts";

/** The services the MCP tools act through: the same ones, with the same checks, as the REST routes. */
export interface McpDeps {
  orgs: OrgService;
  projects: ProjectService;
  files: FileService;
  tasks: TaskService;
  workflows: WorkflowService;
  chats: ChatService;
  deployments: DeploymentService;
}

const INSTRUCTIONS =
  "Kiln: an AI app studio. Tools take an org and a project (slug or id): list_orgs, then list_projects. " +
  "The board: get_workflow (statuses), list_tasks, create_task, move_task. Files: list_files, read_file, " +
  "write_file. A refusal is a tool error whose text is {error:{code,message}} with Kiln's code.";

/** One MCP server per request, bound to the caller the token named (stateless, ADR 0038). */
export function buildMcpServer(principal: Principal, deps: McpDeps, log: FastifyBaseLogger): McpServer {
  const server = new McpServer(
    { name: "kiln", version: VERSION },
    { instructions: INSTRUCTIONS, capabilities: { tools: {}, resources: {} } },
  );
  const ctx = { principal, orgs: deps.orgs, log };
  projectTools(server, ctx, deps);
  boardTools(server, ctx, deps);
  fileTools(server, ctx, deps);
  chatTools(server, ctx, deps);
  deploymentTools(server, ctx, deps);
  resources(server, ctx, deps);
  return server;
}
