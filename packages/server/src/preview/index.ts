import type { Database } from "../db/client.ts";
import type { DevServerManager } from "../devserver/manager.ts";
import type { ProjectService } from "../projects/service.ts";
import type { PreviewTokens } from "./access.ts";
import { devServerLogs, devServerTargets } from "./dev-servers.ts";
import { PreviewErrors } from "./errors.ts";
import { PreviewGateway } from "./gateway.ts";
import { UsedHandoffs } from "./handoffs.ts";
import { ShareLinkService } from "./share-links.ts";

/**
 * The preview origin (`<project>--<org>.<domain>`): the gateway in front of the dev servers, the errors their
 * pages and logs report, and the hand-off tokens used once each (shared by every replica).
 */
export function createPreview(d: {
  database: Database;
  tokens: PreviewTokens;
  publicUrl: string;
  appDomain: string;
  devServers: DevServerManager;
  projects: ProjectService;
}): { gateway: PreviewGateway; errors: PreviewErrors; handoffs: UsedHandoffs; shares: ShareLinkService } {
  const shares = new ShareLinkService({
    database: d.database,
    projects: d.projects,
    publicUrl: d.publicUrl,
    appDomain: d.appDomain,
  });
  const errors = new PreviewErrors({ logsOf: devServerLogs(d.devServers) });
  const handoffs = new UsedHandoffs(d.database);
  const gateway = new PreviewGateway({
    database: d.database,
    tokens: d.tokens,
    handoffs,
    publicUrl: d.publicUrl,
    appDomain: d.appDomain,
    secureCookies: d.publicUrl.startsWith("https://"),
    errors,
    shares,
    ...devServerTargets(d.devServers),
  });
  return { gateway, errors, handoffs, shares };
}
