import type { FastifyBaseLogger } from "fastify";
import type { Database } from "../../db/client.ts";
import type { ProjectService } from "../../projects/service.ts";
import { AutomationEngine } from "../automation/engine.ts";
import type { JobStarter } from "../automation/job-starter.ts";
import { AutomationService } from "../automation/service.ts";
import { WorkflowService } from "../workflows/service.ts";
import { TaskCommands } from "./commands.ts";
import { TaskService } from "./service.ts";

export interface TaskBoardDeps {
  database: Database;
  projects: ProjectService;
  log: FastifyBaseLogger;
  /** The job queue, for `start_job` actions; may also be plugged in later (`automation.useJobStarter`). */
  jobs?: JobStarter;
}

/** Builds the task board's services: tasks, workflows and automation (kept out of kiln.ts to keep it short). */
export function createTaskBoard(d: TaskBoardDeps): {
  tasks: TaskService;
  workflows: WorkflowService;
  automation: AutomationService;
} {
  const commands = new TaskCommands({ database: d.database });
  const engine = new AutomationEngine({
    database: d.database,
    commands,
    log: d.log,
    ...(d.jobs ? { jobs: d.jobs } : {}),
  });
  return {
    tasks: new TaskService({ database: d.database, projects: d.projects, commands }),
    workflows: new WorkflowService({ database: d.database, projects: d.projects }),
    automation: new AutomationService({ database: d.database, projects: d.projects, engine }),
  };
}
