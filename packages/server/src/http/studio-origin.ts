/**
 * The origins a browser may use for the studio. Exactly the public URL's, except that a loopback public URL
 * stands for every loopback spelling of the same scheme and port: `localhost`, `127.0.0.1` and `[::1]` all
 * reach one server that only this machine can reach, so the banner's address, the default public URL and
 * a bookmark with another spelling all work. Any other public URL is never widened.
 */
const LOOPBACK = ["localhost", "127.0.0.1", "[::1]"];

export function studioOrigins(publicUrl: string): ReadonlySet<string> {
  const url = new URL(publicUrl);
  if (!LOOPBACK.includes(url.hostname)) return new Set([url.origin]);
  const port = url.port ? `:${url.port}` : "";
  return new Set(LOOPBACK.map((host) => `${url.protocol}//${host}${port}`));
}
