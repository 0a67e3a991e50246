import type { ToolDefinition } from "../tool.ts";
import { bashTool } from "./bash.ts";
import { editFileTool, multiEditTool } from "./edit-file.ts";
import { globTool } from "./glob.ts";
import { grepTool } from "./grep.ts";
import { listFilesTool } from "./list-files.ts";
import { previewStatusTool, projectInfoTool } from "./project.ts";
import { readFileTool } from "./read-file.ts";
import { shellCloseTool, shellOpenTool, shellRunTool } from "./shell.ts";
import { todoReadTool, todoWriteTool } from "./todo.ts";
import { createWebFetchTool, type WebFetchOptions } from "./web-fetch.ts";
import { writeFileTool } from "./write-file.ts";

export interface DefaultToolsOptions {
  webFetch?: WebFetchOptions | false;
  /** Leave out the persistent shell tools (e.g. when the workspace has no openShell). */
  shells?: boolean;
}

/** Kiln's agent tools, in the order the model sees them. */
export function createDefaultTools(options: DefaultToolsOptions = {}): ToolDefinition[] {
  const tools: ToolDefinition[] = [
    readFileTool,
    writeFileTool,
    editFileTool,
    multiEditTool,
    listFilesTool,
    globTool,
    grepTool,
    bashTool,
  ];
  if (options.shells !== false) tools.push(shellOpenTool, shellRunTool, shellCloseTool);
  if (options.webFetch !== false) tools.push(createWebFetchTool(options.webFetch || {}));
  tools.push(todoWriteTool, todoReadTool, projectInfoTool, previewStatusTool);
  return tools;
}

export type { WebFetchOptions };
export {
  bashTool,
  createWebFetchTool,
  editFileTool,
  globTool,
  grepTool,
  listFilesTool,
  multiEditTool,
  previewStatusTool,
  projectInfoTool,
  readFileTool,
  shellCloseTool,
  shellOpenTool,
  shellRunTool,
  todoReadTool,
  todoWriteTool,
  writeFileTool,
};
