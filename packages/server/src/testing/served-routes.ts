import type { FastifyInstance } from "fastify";

/**
 * Every route Fastify serves, read back from `printRoutes` (hooks that see routes must be added before
 * they are registered, which is too early for a test). Each line is `<tree>── <segment> (<methods>)`,
 * where the tree prefix is four characters per level and a segment continues its parent's path. URLs keep
 * Fastify's `:param` spelling.
 */
export function servedRoutes(app: FastifyInstance): Array<{ method: string; url: string }> {
  const routes: Array<{ method: string; url: string }> = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack[depth] = match[2]!;
    const url = stack.join("");
    for (const method of match[3]?.split(", ") ?? []) routes.push({ method, url });
  }
  return routes;
}
