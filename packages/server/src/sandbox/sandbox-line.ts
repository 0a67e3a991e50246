import type { SandboxDriver } from "./driver.ts";

/** One line on how project code runs here; the operator must see at once when it is not isolated. */
export async function sandboxLine(driver: SandboxDriver): Promise<string> {
  if (driver.unsandboxed)
    return "WARNING: project code runs UNSANDBOXED on this host (KILN_ALLOW_UNSANDBOXED=1)";
  const check = await driver.check();
  if (!check.ok) {
    return `Project code is DISABLED: this host cannot sandbox it:\n    - ${check.problems.join("\n    - ")}`;
  }
  return `Sandbox: ${driver.name}${check.warnings.length ? ` (${check.warnings.join("; ")})` : ""}`;
}
