import type { DevServerManager } from "../devserver/manager.ts";
import type { PreviewErrorsOptions } from "./errors.ts";
import type { PreviewGatewayOptions } from "./gateway.ts";

/** The preview gateway's view of the dev servers: what to proxy to, and a hold while a socket is open. */
export function devServerTargets(
  devServers: DevServerManager,
): Pick<PreviewGatewayOptions, "hold" | "resolveTarget"> {
  return {
    hold: (p) => devServers.hold(p),
    resolveTarget: async (p, waitMs) => {
      const s = await devServers.ensureSettled(p, waitMs);
      const log = devServers.logs(p).tail(30);
      if (s.state === "running" && s.target) return { state: "ready", target: s.target };
      if (s.state === "crashed") return { state: "crashed", reason: s.detail, log };
      return { state: "starting", phase: s.detail, log };
    },
  };
}

/** The dev server log a preview's errors are read from; none while the project has no dev server. */
export function devServerLogs(devServers: DevServerManager): PreviewErrorsOptions["logsOf"] {
  return (orgId, projectId) => {
    const found = devServers.find(orgId, projectId);
    return found && devServers.logs(found);
  };
}
