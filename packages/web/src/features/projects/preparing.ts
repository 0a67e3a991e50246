import type { Template } from "@kiln/protocol";

/**
 * How far the server's install of the dependencies a create is waiting for is (0–99), or undefined when
 * it waits for none. With no template chosen the server picks one: any install under way is the one.
 */
export function preparingPercent(
  templates: readonly Template[] | undefined,
  chosen: string | undefined,
): number | undefined {
  const waitedFor = chosen
    ? templates?.find((t) => t.name === chosen)
    : templates?.find((t) => t.preparing !== undefined);
  return waitedFor?.preparing;
}

/** The create button's label while it waits. */
export function creatingLabel(preparing: number | undefined, creating: string): string {
  return preparing === undefined ? creating : `Preparing templates… ${preparing}%`;
}
