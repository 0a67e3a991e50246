import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { createDefaultTools, runAgent } from "@kiln/agent";
import type { AgentEvent, Job, JobAgent, JobFailureCode, JobResult, WorkerJobEvent } from "@kiln/protocol";
import { BUILTIN_AGENT, toJobAgent } from "../agents/builtin.ts";
import { systemPrompt } from "../chats/system-prompt.ts";
import type { SandboxDriver } from "../sandbox/driver.ts";
import { PrivateClone } from "./private-clone.ts";
import { sandboxedWorkspace } from "./workspace.ts";
import { checkoutInSandbox, JobGitError, type JobWorkspace, packInSandbox } from "./workspace-git.ts";

export interface JobAssignment {
  job: Job;
  attempt: number;
  branch: string;
  repoUrl: string;
  modelProxyUrl: string;
  jobToken: string;
  /** The agent version to run; absent (a job from before agents, an older server): the built-in. */
  agent?: JobAgent;
}

export type JobOutcome =
  | { ok: true; result: JobResult }
  | { ok: false; code: JobFailureCode; message: string; cancelled?: boolean };

export interface JobRunnerDeps {
  driver: SandboxDriver;
  /** Where clones live while a job runs (removed afterwards). */
  workDir: string;
  emit(event: WorkerJobEvent): void;
  signal: AbortSignal;
  maxSteps?: number;
}

/** What a job without agent data runs: the built-in agent as this worker's Kiln ships it. */
const BUILTIN_JOB_AGENT = toJobAgent(BUILTIN_AGENT);

/** The agent's allowed tools; in a review (plan mode) only the read-only ones among them. */
export function jobTools(agent: Pick<JobAgent, "tools">, review: boolean) {
  const allowed = new Set<string>(agent.tools);
  return createDefaultTools().filter((t) => allowed.has(t.name) && (!review || !t.mutates));
}

/**
 * One job attempt on a worker: clone the project over git smart HTTP with the job's token into a private
 * repository, check the job's branch out in the sandbox, work on it with the agent loop (model calls
 * through the server's proxy, commands in this host's sandbox), commit in the sandbox, bring the commits
 * back as a bundle, push the branch, and report the summary. Never throws: failures are outcomes.
 */
export async function runJob(a: JobAssignment, deps: JobRunnerDeps): Promise<JobOutcome> {
  // Root-only (0700): the private clone, the bundles and the workspace itself cannot be swapped from inside.
  const dir = await mkdtemp(path.join(deps.workDir, "job-"));
  const step = (name: string, detail?: string) =>
    deps.emit({
      type: "step",
      name,
      status: "started",
      ...(detail ? { detail: detail.slice(0, 4000) } : {}),
    });
  try {
    step("clone", a.repoUrl);
    const repo = await PrivateClone.create(dir, a.repoUrl, a.jobToken);
    if ("error" in repo) return { ok: false, code: "git_unavailable", message: repo.error };
    const work = path.join(dir, "work");
    await mkdir(work);
    const sandboxGit: JobWorkspace = {
      driver: deps.driver,
      projectId: a.job.projectId,
      workDir: work,
      inDir: await repo.bundleBranches(),
    };
    // The sandbox makes the repository as the project's uid; the driver hands it the still-empty directory.
    const guide = await checkoutInSandbox(
      sandboxGit,
      { defaultBranch: repo.defaultBranch, branch: a.branch },
      deps.signal,
    );
    const owner = deps.driver.workspaceOwner(a.job.projectId);
    const workspace = sandboxedWorkspace(work, a.job.projectId, deps.driver, owner);
    const provider = createOpenAICompatible({
      name: "kiln",
      baseURL: a.modelProxyUrl,
      apiKey: a.jobToken,
      includeUsage: true,
    });
    const review = a.job.kind === "review";
    const agent = a.agent ?? BUILTIN_JOB_AGENT;
    // The org's default model unless the agent names one (the proxy checks it is the org's).
    const modelId = agent.defaultModel ?? "default";
    let lastText = "";
    step("agent", `${a.job.kind} on ${a.branch} as ${agent.name} v${agent.version}`);
    const run = await runAgent({
      model: provider.chatModel(modelId),
      modelId,
      system: [
        systemPrompt({
          agentPrompt: agent.systemPrompt,
          project: { name: a.job.projectId, slug: a.job.projectId, template: "unknown", description: "" },
          guide,
          mode: review ? "plan" : "allow",
        }),
        "",
        review
          ? `You are reviewing the work on branch ${a.branch}. Compare it with main (\`git diff main...HEAD\` via bash is not available in plan mode; read the changed files) and report concrete problems and suggestions.`
          : `You work on branch ${a.branch} for a task on the project's board. Make the change completely; your work is committed and pushed for review when you finish.`,
      ].join("\n"),
      messages: [{ role: "user", content: a.job.instructions || "Do the task." }],
      // The loop knows only these: a call naming any other tool (bash for an agent without it) never runs.
      tools: jobTools(agent, review),
      workspace,
      mode: review ? "plan" : "allow",
      approve: async () => "approve",
      messageId: `${a.job.id}:${a.attempt}`,
      maxSteps: Math.min(agent.stepLimit ?? Number.POSITIVE_INFINITY, deps.maxSteps ?? 40),
      signal: deps.signal,
      onEvent: (event: AgentEvent) => {
        if (event.type === "text-delta") lastText += event.delta;
        if (event.type === "tool-call-start") lastText = "";
        // Like a chat turn's, the job's message-start names the agent version it runs.
        const named =
          event.type === "message-start"
            ? { ...event, agent: { id: agent.id, version: agent.version } }
            : event;
        deps.emit({ type: "agent", event: named });
      },
    });
    if (run.status === "cancelled")
      return { ok: false, code: "cancelled", message: "cancelled", cancelled: true };
    if (run.status !== "completed") {
      const code: JobFailureCode =
        run.reason === "model_error"
          ? "provider_unavailable"
          : run.reason === "budget_exceeded"
            ? "budget_exceeded"
            : run.reason === "step_limit"
              ? "step_limit"
              : "agent_failed";
      return { ok: false, code, message: run.detail ?? run.reason };
    }
    const summary = lastText.trim() || "The agent finished without a summary.";
    if (review) return { ok: true, result: { summary, branch: null, commit: null } };

    step("commit");
    const title = summary.split("\n")[0]!.slice(0, 72);
    const bundlePath = path.join(dir, "job.bundle");
    const packed = await packInSandbox(
      sandboxGit,
      { message: `${title}\n\n${summary}\n\nKiln-Job: ${a.job.id}`, bases: repo.tips, bundlePath },
      deps.signal,
    );
    if (packed.bundled) await repo.take(bundlePath, packed.commit);
    step("push", a.branch);
    const push = await repo.push(packed.commit, a.branch);
    if (push.code !== 0) return { ok: false, code: "push_rejected", message: push.stderr.trim().slice(-500) };
    return {
      ok: true,
      result: { summary: summary.slice(0, 20_000), branch: a.branch, commit: packed.commit },
    };
  } catch (err) {
    if (deps.signal.aborted) return { ok: false, code: "cancelled", message: "cancelled", cancelled: true };
    if (err instanceof JobGitError) return { ok: false, code: err.code, message: err.message };
    return { ok: false, code: "worker_error", message: (err as Error).message.slice(0, 4000) };
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
