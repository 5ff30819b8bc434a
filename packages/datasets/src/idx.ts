/**
 * IDX files on disk (Node): reading, from files or memory, plain or gzip-compressed, and
 * writing. The format itself is in idx-format.ts.
 */
import { open, writeFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGunzip, gunzipSync, gzipSync } from "node:zlib";
import { DatasetError } from "./errors.js";
import { type IdxArray, IdxDecoder, type IdxExpectation, type IdxInput, encodeIdx, isGzip, MAX_DEFLATE_RATIO } from "./idx-format.js";

const READ_CHUNK = 1 << 20;

function ioError(path: string, err: unknown): DatasetError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return new DatasetError(path, "file not found", { cause: err });
  if (code === "EISDIR") return new DatasetError(path, "is a directory, not a file", { cause: err });
  if (code === "EACCES" || code === "EPERM") return new DatasetError(path, "permission denied", { cause: err });
  const message = err instanceof Error ? err.message : String(err);
  return new DatasetError(path, `cannot read: ${message}`, { cause: err });
}

/**
 * Reads an IDX file, plain or gzip-compressed (detected by content, whatever its name), with
 * streams: the result is allocated once from the header and nothing else is kept.
 * Throws a `DatasetError` naming the file for a missing file, a non-IDX file, a wrong magic
 * number (with `expect`), a truncated file, trailing data or corrupt gzip data.
 */
export async function readIdx(path: string, expect: IdxExpectation = {}): Promise<IdxArray> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(path, "r");
  } catch (err) {
    throw ioError(path, err);
  }
  try {
    let size: number;
    const magic = new Uint8Array(2);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new DatasetError(path, "not a regular file");
      size = st.size;
      await fh.read(magic, 0, 2, 0);
    } catch (err) {
      if (err instanceof DatasetError) throw err;
      throw ioError(path, err);
    }
    const gz = size >= 2 && isGzip(magic);
    const decoder = new IdxDecoder(
      path,
      expect,
      (h) => {
        if (gz && h.headerBytes + h.dataBytes > size * MAX_DEFLATE_RATIO + 1024) {
          throw new DatasetError(
            path,
            `truncated: header promises shape [${h.shape.join(",")}] of ${h.dtype} = ${h.dataBytes} bytes of data, more than a ${size}-byte gzip file can hold`,
          );
        }
      },
      gz ? {} : { totalBytes: size },
    );
    const source = fh.createReadStream({ start: 0, highWaterMark: READ_CHUNK, autoClose: false });
    // pipeline may report a consumer's error as an abort, so keep the decoder's own error.
    let refusal: unknown;
    const sink = async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks) {
        try {
          decoder.push(chunk);
        } catch (err) {
          refusal = err;
          throw err;
        }
      }
    };
    try {
      if (gz) await pipeline(source, createGunzip({ chunkSize: 256 * 1024 }), sink);
      else await pipeline(source, sink);
    } catch (err) {
      if (refusal !== undefined) throw refusal;
      if (err instanceof DatasetError) throw err;
      const code = (err as NodeJS.ErrnoException | undefined)?.code;
      if (typeof code === "string" && code.startsWith("Z_")) {
        const what = code === "Z_BUF_ERROR" ? "truncated gzip data" : "corrupt gzip data";
        throw new DatasetError(path, `${what} (${(err as Error).message})`, { cause: err });
      }
      throw ioError(path, err);
    }
    return decoder.finish();
  } finally {
    await fh.close();
  }
}

/**
 * Decodes an IDX file held in memory (plain or gzip-compressed, detected by content).
 * `name` is used in error messages.
 */
export function decodeIdx(bytes: Uint8Array, name = "<buffer>", expect: IdxExpectation = {}): IdxArray {
  let plain = bytes;
  if (isGzip(bytes)) {
    try {
      // deflate cannot expand past MAX_DEFLATE_RATIO: more output is not a gzip stream of ours
      plain = gunzipSync(bytes, { maxOutputLength: bytes.length * MAX_DEFLATE_RATIO + 1024 });
    } catch (err) {
      throw new DatasetError(name, `corrupt or truncated gzip data (${(err as Error).message})`, { cause: err });
    }
  }
  const decoder = new IdxDecoder(name, expect, undefined, { totalBytes: plain.length });
  decoder.push(plain);
  return decoder.finish();
}

/**
 * Writes an array as an IDX file; gzip-compressed when `options.gzip` is true or, by default,
 * when the path ends in `.gz`.
 */
export async function writeIdx(path: string, input: IdxInput, options: { gzip?: boolean } = {}): Promise<void> {
  const bytes = encodeIdx(input);
  const gz = options.gzip ?? path.endsWith(".gz");
  await writeFile(path, gz ? gzipSync(bytes) : bytes);
}
