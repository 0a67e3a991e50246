import type { Readable } from "node:stream";
import { crc32, deflateRawSync } from "node:zlib";
import yauzl from "yauzl";

export interface ReadEntry {
  type: "file" | "dir" | "symlink";
  content: Buffer;
  mode: number;
}

/** Every entry of a zip (tests only): names as stored, contents read in full. */
export async function readZip(bytes: Buffer): Promise<Map<string, ReadEntry>> {
  const zip = await yauzl.fromBufferPromise(bytes, { lazyEntries: true, decodeStrings: true });
  const out = new Map<string, ReadEntry>();
  for await (const entry of zipEntries(zip)) {
    const mode = (entry.externalFileAttributes >>> 16) & 0o177777;
    const type = entry.fileName.endsWith("/") ? "dir" : (mode & 0o170000) === 0o120000 ? "symlink" : "file";
    let content: Buffer = Buffer.alloc(0);
    if (type !== "dir") content = await collect(await zip.openReadStreamPromise(entry));
    out.set(entry.fileName.replace(/\/$/, ""), { type, content, mode });
  }
  return out;
}

async function* zipEntries(zip: yauzl.ZipFile): AsyncGenerator<yauzl.Entry> {
  while (true) {
    const next = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
      const onEntry = (e: yauzl.Entry) => {
        zip.off("end", onEnd);
        zip.off("error", reject);
        resolve(e);
      };
      const onEnd = () => {
        zip.off("entry", onEntry);
        resolve(undefined);
      };
      zip.once("entry", onEntry);
      zip.once("end", onEnd);
      zip.once("error", reject);
      zip.readEntry();
    });
    if (!next) return;
    yield next;
  }
}

async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export interface RawEntry {
  name: string;
  data?: Buffer;
  /** Unix mode with its type bits (0o100644 a file, 0o120777 a symlink, 0o040755 a directory). */
  mode?: number;
  deflate?: boolean;
  encrypted?: boolean;
  /** The uncompressed size to declare, when it should lie. */
  declaredSize?: number;
}

/**
 * A zip written byte by byte (tests only), so names and headers can be anything an attacker would send:
 * archiver cleans names (`../`, drive letters) that these tests need raw.
 */
export function buildZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, "utf8");
    const raw = e.data ?? Buffer.alloc(0);
    const body = e.deflate ? deflateRawSync(raw) : raw;
    const crc = crc32(raw);
    const flags = 0x0800 | (e.encrypted ? 1 : 0);
    const method = e.deflate ? 8 : 0;
    const size = e.declaredSize ?? raw.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(0, 10);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x0314, 4); // made by Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(0, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((e.mode ?? (e.name.endsWith("/") ? 0o040755 : 0o100644)) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(Math.min(entries.length, 0xffff), 8);
  end.writeUInt16LE(Math.min(entries.length, 0xffff), 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
