/**
 * The host's environment without npm's `npm_*` variables, for what Kiln runs on the host for a template
 * (install, compile-cache priming): a parent `npm run` must not steer them.
 */
export function hostEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith("npm_")) env[k] = v;
  return env;
}
