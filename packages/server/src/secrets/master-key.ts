import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, rm, writeFile } from "node:fs/promises";
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
  // Write the whole key to a private temp file, then link it into place: link() fails if the name exists,
  // so a racing process either wins or reads a complete key — never an empty, half-written file.
  const temp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temp, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  try {
    await chmod(temp, 0o600);
    await link(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return loadMasterKey(dataDir, undefined);
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
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
