/**
 * The IDX file format (MNIST, Fashion-MNIST, EMNIST, ...) in memory: types, the incremental
 * decoder and the encoder. No Node built-ins: the browser entry uses it as it is.
 *
 * Layout: a big-endian magic number `0x0000TTNN` (TT: element type code, NN: number of
 * dimensions), NN big-endian uint32 dimension sizes, then the elements, big-endian, in
 * row-major order.
 */
import { DatasetError } from "./errors.js";

/** An element type the IDX format defines. */
export type IdxDType = "uint8" | "int8" | "int16" | "int32" | "float32" | "float64";

/** The typed array that holds decoded IDX elements (in the host's byte order). */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** A decoded IDX file: element type, dimension sizes and the elements in row-major order. */
export interface IdxArray<D extends IdxData = IdxData> {
  /** Element type, from the header's type code. */
  readonly dtype: IdxDType;
  /** Dimension sizes, outermost first (for MNIST images `[count, rows, columns]`). */
  readonly shape: readonly number[];
  /** The elements, row-major, in the typed array of `dtype`. */
  readonly data: D;
}

/** What a caller may require of an IDX file; a file that differs is refused with a `DatasetError`. */
export interface IdxExpectation {
  /** The element type the file must hold. */
  readonly dtype?: IdxDType;
  /** The number of dimensions the file must have. */
  readonly ndim?: number;
}

/** The parsed header of an IDX file. */
export interface IdxHeader {
  /** Element type, from the header's type code. */
  readonly dtype: IdxDType;
  /** Dimension sizes, outermost first (for MNIST images `[count, rows, columns]`). */
  readonly shape: readonly number[];
  /** The 32-bit magic number, for example `0x00000803` for MNIST images. */
  readonly magic: number;
  /** Bytes taken by the header (4 + 4 x number of dimensions). */
  readonly headerBytes: number;
  /** Bytes of element data the header promises. */
  readonly dataBytes: number;
}

interface DTypeInfo {
  readonly dtype: IdxDType;
  readonly code: number;
  readonly bytes: number;
  readonly make: (buffer: ArrayBuffer, length: number) => IdxData;
}

const DTYPE_INFO: readonly DTypeInfo[] = [
  { dtype: "uint8", code: 0x08, bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  { dtype: "int8", code: 0x09, bytes: 1, make: (b, n) => new Int8Array(b, 0, n) },
  { dtype: "int16", code: 0x0b, bytes: 2, make: (b, n) => new Int16Array(b, 0, n) },
  { dtype: "int32", code: 0x0c, bytes: 4, make: (b, n) => new Int32Array(b, 0, n) },
  { dtype: "float32", code: 0x0d, bytes: 4, make: (b, n) => new Float32Array(b, 0, n) },
  { dtype: "float64", code: 0x0e, bytes: 8, make: (b, n) => new Float64Array(b, 0, n) },
];
const BY_CODE = new Map(DTYPE_INFO.map((d) => [d.code, d]));
const BY_NAME = new Map(DTYPE_INFO.map((d) => [d.dtype, d]));

/** The IDX type code of each element type (0x08 uint8 ... 0x0E float64). */
export const IDX_TYPE_CODES: Readonly<Record<IdxDType, number>> = Object.freeze(
  Object.fromEntries(DTYPE_INFO.map((d) => [d.dtype, d.code])) as Record<IdxDType, number>,
);

/** The magic number of an IDX file holding `ndim` dimensions of `dtype` (0x00000803 for uint8 images). */
export function idxMagic(dtype: IdxDType, ndim: number): number {
  return (IDX_TYPE_CODES[dtype] << 8) | ndim;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/** The most bytes deflate can expand to per compressed byte (its maximum ratio is ~1032:1). */
/** A gzip member inflates to at most this many times its size (deflate's limit, plus slack). */
export const MAX_DEFLATE_RATIO = 1032;
/** First size of the output buffer when the file's size does not vouch for the header. */
const FIRST_CAPACITY = 1 << 16;
const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;

function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
}

function describe(dtype: IdxDType, ndim: number): string {
  return `${dtype}, ${ndim} dimension${ndim === 1 ? "" : "s"}`;
}

/** Reverses the byte order of every `width`-byte element of `bytes`, in place. */
function swapBytes(bytes: Uint8Array, width: number): void {
  if (width === 1) return;
  const n = bytes.length;
  if (width === 2) {
    for (let i = 0; i < n; i += 2) {
      const a = bytes[i];
      bytes[i] = bytes[i + 1];
      bytes[i + 1] = a;
    }
  } else if (width === 4) {
    for (let i = 0; i < n; i += 4) {
      const a = bytes[i];
      const b = bytes[i + 1];
      bytes[i] = bytes[i + 3];
      bytes[i + 1] = bytes[i + 2];
      bytes[i + 2] = b;
      bytes[i + 3] = a;
    }
  } else {
    for (let i = 0; i < n; i += width) {
      for (let lo = i, hi = i + width - 1; lo < hi; lo++, hi--) {
        const a = bytes[lo];
        bytes[lo] = bytes[hi];
        bytes[hi] = a;
      }
    }
  }
}

/** True when `bytes` starts with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

/** Options of an {@link IdxDecoder}. */
export interface IdxDecoderOptions {
  /**
   * The size of the whole (decompressed) file, when known: a header that promises more or less
   * data is refused before anything is allocated, and the output is then allocated at once.
   * Without it (a gzip stream), the output grows with the data that actually arrives, so a
   * header that lies costs no more than the bytes received.
   */
  readonly totalBytes?: number;
}

/**
 * An incremental IDX decoder: feed it the (decompressed) bytes of a file in chunks of any size
 * with `push`, then call `finish`. Chunks are copied into the output as they arrive, so at most
 * one chunk is held besides the result. The output is never larger than the data received
 * calls for (see {@link IdxDecoderOptions.totalBytes}): an untrusted header cannot make it
 * allocate far beyond the file.
 */
export class IdxDecoder {
  private readonly name: string;
  private readonly expect: IdxExpectation;
  private readonly onHeader: ((header: IdxHeader) => void) | undefined;
  private readonly totalBytes: number | undefined;
  private readonly head = new Uint8Array(4 + 4 * 255);
  private headLength = 0;
  private info: DTypeInfo | undefined;
  private hdr: IdxHeader | undefined;
  private out: Uint8Array | undefined;
  private filled = 0;
  private received = 0;
  private result: IdxArray | undefined;

  /**
   * @param name the file name used in error messages
   * @param expect the element type / dimension count the file must have
   * @param onHeader called once the header is parsed, before the output is allocated; may throw
   * @param options what is known of the file (its size)
   */
  constructor(name: string, expect: IdxExpectation = {}, onHeader?: (header: IdxHeader) => void, options: IdxDecoderOptions = {}) {
    this.name = name;
    this.expect = expect;
    this.onHeader = onHeader;
    this.totalBytes = options.totalBytes;
  }

  /** Bytes of output allocated so far (at most the header's data, and grown only as data arrives). */
  get allocatedBytes(): number {
    return this.out?.length ?? this.result?.data.byteLength ?? 0;
  }

  /** The parsed header, once enough bytes have been pushed. */
  get header(): IdxHeader | undefined {
    return this.hdr;
  }

  private fail(reason: string): never {
    throw new DatasetError(this.name, reason);
  }

  /** Feeds the next bytes of the file. */
  push(chunk: Uint8Array): void {
    if (this.result !== undefined) throw new Error("IdxDecoder.push: the decoder is finished");
    this.received += chunk.length;
    let pos = 0;
    while (this.hdr === undefined && pos < chunk.length) {
      const need = this.headerNeed();
      const take = Math.min(need - this.headLength, chunk.length - pos);
      this.head.set(chunk.subarray(pos, pos + take), this.headLength);
      this.headLength += take;
      pos += take;
      if (this.headLength === need) this.parseHeaderStep();
    }
    if (pos >= chunk.length) return;
    const hdr = this.hdr!;
    const rest = chunk.length - pos;
    if (this.filled + rest > hdr.dataBytes) {
      this.fail(
        `holds more data than its header describes (header: shape [${hdr.shape.join(",")}] of ${hdr.dtype} = ${hdr.dataBytes} bytes after a ${hdr.headerBytes}-byte header)`,
      );
    }
    if (this.filled + rest > this.out!.length) this.grow(this.filled + rest);
    this.out!.set(pos === 0 ? chunk : chunk.subarray(pos), this.filled);
    this.filled += rest;
  }

  /** Makes room for `need` bytes: doubling, capped at what the header promises. */
  private grow(need: number): void {
    const hdr = this.hdr!;
    const size = Math.min(hdr.dataBytes, Math.max(need, 2 * this.out!.length));
    const bigger = this.allocate(size);
    bigger.set(this.out!.subarray(0, this.filled));
    this.out = bigger;
  }

  private allocate(bytes: number): Uint8Array {
    const hdr = this.hdr!;
    try {
      return new Uint8Array(new ArrayBuffer(bytes));
    } catch (cause) {
      throw new DatasetError(this.name, `cannot allocate ${bytes} bytes for shape [${hdr.shape.join(",")}] of ${hdr.dtype}`, { cause });
    }
  }

  private headerNeed(): number {
    return this.headLength < 4 ? 4 : 4 + 4 * this.head[3];
  }

  private parseHeaderStep(): void {
    const h = this.head;
    const magic = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
    if (this.headLength === 4) {
      if (h[0] !== 0 || h[1] !== 0) {
        this.fail(`not an IDX file: magic number ${hex32(magic)} does not start with two zero bytes` + (isGzip(h) ? " (gzip data inside gzip?)" : ""));
      }
      const info = BY_CODE.get(h[2]);
      if (info === undefined) {
        this.fail(
          `not an IDX file: magic number ${hex32(magic)} has unknown type code 0x${h[2].toString(16).padStart(2, "0")} (known: 0x08 uint8, 0x09 int8, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64)`,
        );
      }
      const ndim = h[3];
      if (ndim === 0) this.fail(`not an IDX file: magic number ${hex32(magic)} declares 0 dimensions`);
      const { dtype: wantType, ndim: wantDims } = this.expect;
      if ((wantType !== undefined && wantType !== info.dtype) || (wantDims !== undefined && wantDims !== ndim)) {
        const wt = wantType ?? info.dtype;
        const wd = wantDims ?? ndim;
        this.fail(`wrong magic number ${hex32(magic)} (${describe(info.dtype, ndim)}); expected ${hex32(idxMagic(wt, wd))} (${describe(wt, wd)})`);
      }
      this.info = info;
      if (this.headerNeed() > 4) return;
    }
    const info = this.info!;
    const ndim = h[3];
    const shape: number[] = [];
    let count = 1;
    for (let d = 0; d < ndim; d++) {
      const o = 4 + 4 * d;
      const size = ((h[o] << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3]) >>> 0;
      shape.push(size);
      count *= size;
    }
    const dataBytes = count * info.bytes;
    const header: IdxHeader = { dtype: info.dtype, shape, magic, headerBytes: 4 + 4 * ndim, dataBytes };
    if (!Number.isSafeInteger(dataBytes)) {
      this.fail(`header promises an impossible amount of data (shape [${shape.join(",")}] of ${info.dtype})`);
    }
    const total = header.headerBytes + dataBytes;
    if (this.totalBytes !== undefined && total !== this.totalBytes) {
      const held = this.totalBytes - header.headerBytes;
      if (total > this.totalBytes) {
        this.fail(`truncated: header promises shape [${shape.join(",")}] of ${info.dtype} = ${dataBytes} bytes of data, but the file holds only ${held}`);
      }
      this.fail(`holds more data than its header describes: ${held - dataBytes} bytes after shape [${shape.join(",")}] of ${info.dtype}`);
    }
    this.onHeader?.(header);
    this.hdr = header;
    this.out = this.allocate(this.totalBytes !== undefined ? dataBytes : Math.min(dataBytes, FIRST_CAPACITY));
  }

  /** Checks that the whole file was received and returns the decoded array. */
  finish(): IdxArray {
    if (this.result !== undefined) return this.result;
    const hdr = this.hdr;
    if (hdr === undefined) {
      if (this.received === 0) this.fail("not an IDX file: the file is empty");
      this.fail(`not an IDX file: ${this.received} byte${this.received === 1 ? "" : "s"}, too short for an IDX header (${this.headerNeed()} bytes)`);
    }
    const out = this.out!;
    if (this.filled < hdr.dataBytes) {
      this.fail(
        `truncated: header promises shape [${hdr.shape.join(",")}] of ${hdr.dtype} = ${hdr.dataBytes} bytes of data, but the file holds only ${this.filled}`,
      );
    }
    const info = this.info!;
    if (LITTLE_ENDIAN_HOST) swapBytes(out, info.bytes);
    const count = hdr.dataBytes / info.bytes;
    this.result = { dtype: hdr.dtype, shape: hdr.shape, data: info.make(out.buffer as ArrayBuffer, count) };
    this.out = undefined;
    return this.result;
  }
}

/** What `encodeIdx` / `writeIdx` accept: elements (typed array or numbers), shape and element type. */
export interface IdxInput {
  /** The elements in row-major order. */
  readonly data: IdxData | Uint8ClampedArray | ArrayLike<number>;
  /** Dimension sizes (default: `[data.length]`). */
  readonly shape?: readonly number[];
  /** Element type (default: inferred from the typed array; required for plain number arrays). */
  readonly dtype?: IdxDType;
}

function inferDType(data: IdxInput["data"]): IdxDType | undefined {
  if (data instanceof Uint8Array || data instanceof Uint8ClampedArray) return "uint8";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "float64";
  return undefined;
}

/** Encodes an array as the bytes of an IDX file (big-endian header and elements). */
export function encodeIdx(input: IdxInput): Uint8Array {
  const { data } = input;
  const dtype = input.dtype ?? inferDType(data);
  if (dtype === undefined) throw new DatasetError(undefined, "encodeIdx: give a dtype for a plain number array");
  const info = BY_NAME.get(dtype);
  if (info === undefined) throw new DatasetError(undefined, `encodeIdx: unknown dtype ${String(dtype)}`);
  const shape = input.shape ?? [data.length];
  if (shape.length < 1 || shape.length > 255) {
    throw new DatasetError(undefined, `encodeIdx: IDX files have 1 to 255 dimensions, got ${shape.length}`);
  }
  let count = 1;
  for (const s of shape) {
    if (!Number.isInteger(s) || s < 0 || s > 0xffffffff) {
      throw new DatasetError(undefined, `encodeIdx: bad dimension size ${s} in shape [${shape.join(",")}]`);
    }
    count *= s;
  }
  if (count !== data.length) {
    throw new DatasetError(undefined, `encodeIdx: shape [${shape.join(",")}] holds ${count} elements but data has ${data.length}`);
  }
  const headerBytes = 4 + 4 * shape.length;
  const out = new Uint8Array(headerBytes + count * info.bytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, idxMagic(dtype, shape.length));
  for (let d = 0; d < shape.length; d++) view.setUint32(4 + 4 * d, shape[d] as number);
  // Elements go through an aligned typed array of the right type, then are copied in big-endian.
  const elems = info.make(new ArrayBuffer(count * info.bytes), count);
  if (inferDType(data) === dtype) elems.set(data as ArrayLike<number>);
  else for (let i = 0; i < count; i++) elems[i] = data[i];
  const body = out.subarray(headerBytes);
  body.set(new Uint8Array(elems.buffer, 0, count * info.bytes));
  if (LITTLE_ENDIAN_HOST) swapBytes(body, info.bytes);
  return out;
}
