import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

export const KEY_FILE = "secret.key";

/**
 * The instance's master key: 32 bytes from KILN_SECRET_KEY (base64 or hex) or, on a single machine,
 * generated once into `<dataDir>/secret.key` with mode 0600. Replicas must share KILN_SECRET_KEY.
 */
export async function loadMasterKey(dataDir: string, fromEnv: string | undefined): Promise<Buffer> {
  if (fromEnv) return decodeKey(fromEnv, "KILN_SECRET_KEY");
  const file = path.join(dataDir, KEY_FILE);
  try {
    return decodeKey((await readFile(file, "utf8")).trim(), file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    // wx: if another process won the race, use its key rather than overwrite it.
    await writeFile(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return loadMasterKey(dataDir, undefined);
    throw err;
  }
  await chmod(file, 0o600);
  return key;
}

export function decodeKey(value: string, source: string): Buffer {
  const v = value.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, "hex") : Buffer.from(v, "base64");
  if (key.length !== 32) {
    throw new Error(`${source} must hold 32 bytes as base64 or 64 hex characters (got ${key.length} bytes)`);
  }
  return key;
}
