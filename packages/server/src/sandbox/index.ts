import type { EgressAllowEntry } from "@kiln/agent";
import type { DriverCheck, SandboxDriver } from "./driver.ts";
import { LocalDriver } from "./local-driver.ts";
import { UnsafeHostDriver } from "./unsafe-host-driver.ts";

export * from "./driver.ts";
export { LocalDriver } from "./local-driver.ts";
export { UnsafeHostDriver } from "./unsafe-host-driver.ts";

export class SandboxUnavailableError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(
      `this host cannot sandbox project code:\n  - ${problems.join("\n  - ")}\n` +
        "Kiln will not run project code unsandboxed. Fix the problems above (scripts/setup-system.sh), " +
        "or set KILN_ALLOW_UNSANDBOXED=1 to run it directly on the host (UNSAFE: it can read everything Kiln can).",
    );
    this.name = "SandboxUnavailableError";
    this.problems = problems;
  }
}

/**
 * Picks the driver for this host: the `local` bubblewrap sandbox when it works; otherwise the
 * unsandboxed host driver only if the operator opted in, else an error that says why.
 */
export async function openSandboxDriver(options: {
  allowUnsandboxed: boolean;
  /** The operator's egress exemptions (KILN_EGRESS_ALLOW), which the sandbox's egress filter lets through. */
  egressAllow?: readonly EgressAllowEntry[];
  /** Told when sandboxes a Kiln process left running when it died were ended. */
  onOrphansEnded?: (groups: number) => void;
}): Promise<{ driver: SandboxDriver; check: DriverCheck }> {
  const local = new LocalDriver({
    egressAllow: options.egressAllow ?? [],
    ...(options.onOrphansEnded ? { onOrphansEnded: options.onOrphansEnded } : {}),
  });
  const check = await local.check();
  if (check.ok) return { driver: local, check };
  local.close();
  if (!options.allowUnsandboxed) throw new SandboxUnavailableError(check.problems);
  const unsafe = new UnsafeHostDriver();
  const own = await unsafe.check();
  return {
    driver: unsafe,
    check: { ok: true, problems: [], warnings: [...check.problems, ...own.warnings] },
  };
}

/**
 * Stands in when the host cannot sandbox and the operator did not opt in: the studio still runs, and every
 * attempt to run project code fails with the reason instead of running it unsandboxed.
 */
export class DisabledDriver implements SandboxDriver {
  readonly name = "disabled";
  readonly unsandboxed = false;
  readonly guestUid = process.getuid?.() ?? 0;
  readonly #error: SandboxUnavailableError;

  constructor(error: SandboxUnavailableError) {
    this.#error = error;
  }

  async check(): Promise<DriverCheck> {
    return { ok: false, problems: this.#error.problems, warnings: [] };
  }

  workspaceOwner(): undefined {
    return undefined;
  }

  async exec(): Promise<never> {
    throw this.#error;
  }

  async spawn(): Promise<never> {
    throw this.#error;
  }
}
