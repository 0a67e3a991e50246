import { promisify } from "node:util";
import zlib, { type BrotliOptions } from "node:zlib";
import { ByteLru } from "./byte-lru.ts";
import type { Encoding } from "./negotiation.ts";

/**
 * Compressing a published file on the fly. Blobs are immutable and named by their digest, so the
 * compressed bytes of a digest never go stale: files up to 4 MiB are compressed once per process and kept
 * in a 32 MiB LRU (concurrent first requests share one compression); larger ones are streamed through a
 * compressor each time, since keeping them would crowd out the many small files a page needs.
 */
export const MIN_COMPRESS_BYTES = 1024;
export const MAX_CACHED_BYTES = 4 * 1024 * 1024;
const cache = new ByteLru(32 * 1024 * 1024);
const pending = new Map<string, Promise<Buffer | undefined>>();

/** Brotli's default (11) costs seconds per MiB; 5 compresses about as well as gzip -9, much faster. */
const brotliOptions = (size: number): BrotliOptions => ({
  params: {
    [zlib.constants.BROTLI_PARAM_QUALITY]: 5,
    [zlib.constants.BROTLI_PARAM_SIZE_HINT]: size,
  },
});

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

/**
 * The compressed bytes of a blob; `read` loads the blob on a miss and answers undefined when it cannot
 * (which is passed on, and not cached).
 */
export function compressedBlob(
  digest: string,
  encoding: Encoding,
  read: () => Promise<Buffer | undefined>,
): Promise<Buffer | undefined> {
  const key = `${digest}-${encoding}`;
  const hit = cache.get(key);
  if (hit) return Promise.resolve(hit);
  let job = pending.get(key);
  if (!job) {
    job = (async () => {
      const raw = await read();
      if (!raw) return undefined;
      const compressed = encoding === "br" ? await brotli(raw, brotliOptions(raw.length)) : await gzip(raw);
      cache.set(key, compressed);
      return compressed;
    })().finally(() => pending.delete(key));
    pending.set(key, job);
  }
  return job;
}

/** A compressing stream, for files too large to keep. */
export function compressor(encoding: Encoding, size: number): zlib.BrotliCompress | zlib.Gzip {
  return encoding === "br" ? zlib.createBrotliCompress(brotliOptions(size)) : zlib.createGzip();
}
