// The safetensors format (https://huggingface.co/docs/safetensors):
//   8 bytes   little-endian u64 N, the header length
//   N bytes   UTF-8 JSON header: { name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str} }
//   rest      the byte buffer; data_offsets are relative to its start, tensors are little-endian and
//             row-major, and together they must cover the buffer exactly (no holes, no overlap).

/** A dtype tag as written in a safetensors header; decoding accepts all of these. */
export type SafetensorsDType = "F32" | "F64" | "F16" | "BF16" | "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL";

/** A named array as stored in a checkpoint: row-major `data` of `shape`, element type `dtype`. */
export interface NamedArray {
  /** Element type (safetensors `F32`, `I32` or `BOOL`). */
  dtype: "float32" | "int32" | "bool";
  /** Dimension sizes; `[]` for a scalar. */
  shape: number[];
  /** The elements, row-major (bool as one byte each). */
  data: Float32Array | Int32Array | Uint8Array;
}

/** What a safetensors file holds: its arrays by name and its string metadata. */
export interface SafetensorsContents {
  /** The arrays, by name, in the file's order. */
  tensors: Map<string, NamedArray>;
  /** The header's `__metadata__` (string keys and values; empty when absent). */
  metadata: Record<string, string>;
}

/** A checkpoint that cannot be written or read; the message is `checkpoint <path>: <reason>`. */
export class CheckpointError extends Error {
  /** The file (or `<memory>` for in-memory bytes) the error is about. */
  readonly source: string;
  /** The reason alone, without the `checkpoint <path>: ` prefix. */
  readonly reason: string;
  constructor(source: string, reason: string, options?: { cause?: unknown }) {
    super(`checkpoint ${source}: ${reason}`, options);
    this.name = "CheckpointError";
    this.source = source;
    this.reason = reason;
  }
}

/** The largest header accepted, as in the reference implementation (100 MB). */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";
const MEMORY = "<memory>";

const ITEM_SIZE: Record<SafetensorsDType, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const WRITE_DTYPE: Record<NamedArray["dtype"], SafetensorsDType> = {
  float32: "F32",
  int32: "I32",
  bool: "BOOL",
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === "string" && Object.hasOwn(ITEM_SIZE, s);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "string" ? JSON.stringify(v) : typeof v;
}

const UTF8 = new TextEncoder();

/** Compares names by their UTF-8 bytes, the order the reference implementation sorts in. */
function compareUtf8(a: string, b: string): number {
  const x = UTF8.encode(a);
  const y = UTF8.encode(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(",")}]`;
}

/** Product of `shape`, or an error message when it is not a list of non-negative integers. */
function checkedNumel(shape: unknown): number | string {
  if (!Array.isArray(shape)) return `shape must be a list of non-negative integers, got ${describe(shape)}`;
  let n = 1;
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      return `shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`;
    }
    n *= d;
    if (!Number.isSafeInteger(n)) return `shape ${JSON.stringify(shape)} has too many elements`;
  }
  return n;
}

function validateMetadata(source: string, metadata: unknown): Record<string, string> {
  if (!isPlainObject(metadata)) {
    throw new CheckpointError(source, `${METADATA_KEY} must be an object of strings, got ${describe(metadata)}`);
  }
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== "string") {
      throw new CheckpointError(source, `metadata value for key ${JSON.stringify(k)} must be a string, got ${describe(v)}`);
    }
  }
  // fromEntries defines own properties, so even a "__proto__" key is kept as data.
  return Object.fromEntries(Object.entries(metadata)) as Record<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------

/** `encodeSafetensors`, naming `source` (a file path) in its errors. */
export function encodeSafetensorsAs(
  source: string,
  tensors: Map<string, NamedArray> | Record<string, NamedArray>,
  metadata: Record<string, string> | undefined,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  entries.sort(([a], [b]) => compareUtf8(a, b));

  // Entries in order, turned into an object with fromEntries so a "__proto__" name stays an own property.
  const header: [string, unknown][] = [];
  if (metadata !== undefined) {
    const meta = validateMetadata(source, metadata);
    if (Object.keys(meta).length > 0) header.push([METADATA_KEY, meta]);
  }

  let offset = 0;
  const plan: { arr: NamedArray; begin: number }[] = [];
  for (const [name, arr] of entries) {
    const where = `tensor ${JSON.stringify(name)}`;
    if (name === METADATA_KEY) throw new CheckpointError(source, `${METADATA_KEY} is reserved and cannot name a tensor`);
    if (!isPlainObject(arr)) throw new CheckpointError(source, `${where}: expected a NamedArray, got ${describe(arr)}`);
    const st = Object.hasOwn(WRITE_DTYPE, arr.dtype) ? WRITE_DTYPE[arr.dtype] : undefined;
    if (st === undefined) {
      throw new CheckpointError(source, `${where}: unsupported dtype ${describe(arr.dtype)} (expected float32, int32 or bool)`);
    }
    const expectedData = arr.dtype === "float32" ? Float32Array : arr.dtype === "int32" ? Int32Array : Uint8Array;
    if (!(arr.data instanceof expectedData)) {
      throw new CheckpointError(source, `${where}: dtype ${arr.dtype} needs a ${expectedData.name}, got ${arr.data?.constructor?.name ?? describe(arr.data)}`);
    }
    const numel = checkedNumel(arr.shape);
    if (typeof numel === "string") throw new CheckpointError(source, `${where}: ${numel}`);
    if (numel !== arr.data.length) {
      throw new CheckpointError(source, `${where}: shape ${fmtShape(arr.shape)} has ${numel} elements but data has ${arr.data.length}`);
    }
    const end = offset + numel * ITEM_SIZE[st];
    header.push([name, { dtype: st, shape: [...arr.shape], data_offsets: [offset, end] }]);
    plan.push({ arr, begin: offset });
    offset = end;
  }

  const json = new TextEncoder().encode(JSON.stringify(Object.fromEntries(header)));
  const padded = json.length + ((8 - (json.length % 8)) % 8);
  if (padded > MAX_HEADER_BYTES) {
    throw new CheckpointError(source, `header would be ${padded} bytes, over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const dataStart = 8 + padded;
  const out = new Uint8Array(dataStart + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, dataStart); // pad with spaces, as the reference writer does

  for (const { arr, begin } of plan) {
    const at = dataStart + begin;
    const data = arr.data;
    if (arr.dtype === "bool") {
      for (let i = 0; i < data.length; i++) out[at + i] = data[i] !== 0 ? 1 : 0;
    } else if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    } else if (data instanceof Float32Array) {
      for (let i = 0; i < data.length; i++) view.setFloat32(at + 4 * i, data[i] as number, true);
    } else {
      for (let i = 0; i < data.length; i++) view.setInt32(at + 4 * i, data[i] as number, true);
    }
  }
  return out;
}

/** Serializes named arrays and string metadata to safetensors bytes (tensors sorted by name, header space-padded to 8 bytes). */
export function encodeSafetensors(tensors: Map<string, NamedArray> | Record<string, NamedArray>, metadata?: Record<string, string>): Uint8Array {
  return encodeSafetensorsAs(MEMORY, tensors, metadata);
}

// ---------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------

interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  numel: number;
  begin: number;
  end: number;
}

function parseEntry(source: string, name: string, info: unknown): TensorEntry {
  const where = `tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(info)) throw new CheckpointError(source, `${where}: header entry must be an object, got ${describe(info)}`);
  const { dtype, shape, data_offsets: offsets } = info;
  if (!isDType(dtype)) {
    throw new CheckpointError(source, `${where}: unsupported dtype ${describe(dtype)} (supported: ${Object.keys(ITEM_SIZE).join(", ")})`);
  }
  const numel = checkedNumel(shape);
  if (typeof numel === "string") throw new CheckpointError(source, `${where}: ${numel}`);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0) ||
    (offsets[0] as number) > (offsets[1] as number)
  ) {
    throw new CheckpointError(source, `${where}: data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  const nbytes = numel * ITEM_SIZE[dtype];
  if (end - begin !== nbytes) {
    throw new CheckpointError(
      source,
      `${where}: data_offsets [${begin},${end}] span ${end - begin} bytes but ${dtype} shape ${fmtShape(shape as number[])} needs ${nbytes}`,
    );
  }
  return { name, dtype, shape: [...(shape as number[])], numel, begin, end };
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero or subnormal
  if (exp === 0x1f) return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function convert(source: string, e: TensorEntry, bytes: Uint8Array, at: number): NamedArray {
  const n = e.numel;
  const nbytes = e.end - e.begin;
  // Every path copies: the result never aliases `bytes`, and the copy is aligned whatever the file offset.
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, nbytes);
  // Explicit copy into a fresh ArrayBuffer (Buffer#slice would alias, and the offset may be unaligned).
  const copyBytes = (): ArrayBuffer => {
    const copy = new Uint8Array(nbytes);
    copy.set(bytes.subarray(at, at + nbytes));
    return copy.buffer;
  };
  switch (e.dtype) {
    case "F32": {
      if (LITTLE_ENDIAN_HOST) return { dtype: "float32", shape: e.shape, data: new Float32Array(copyBytes()) };
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return { dtype: "float32", shape: e.shape, data: out };
    }
    case "F64": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return { dtype: "float32", shape: e.shape, data: out };
    }
    case "F16": {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(2 * i, true));
      return { dtype: "float32", shape: e.shape, data: out };
    }
    case "BF16": {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      return { dtype: "float32", shape: e.shape, data: out };
    }
    case "I32": {
      if (LITTLE_ENDIAN_HOST) return { dtype: "int32", shape: e.shape, data: new Int32Array(copyBytes()) };
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
      return { dtype: "int32", shape: e.shape, data: out };
    }
    case "I64": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = view.getBigInt64(8 * i, true);
        if (v < -2147483648n || v > 2147483647n) {
          throw new CheckpointError(source, `tensor ${JSON.stringify(e.name)}: I64 value ${v} at flat index ${i} does not fit in int32`);
        }
        out[i] = Number(v);
      }
      return { dtype: "int32", shape: e.shape, data: out };
    }
    case "I16": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt16(2 * i, true);
      return { dtype: "int32", shape: e.shape, data: out };
    }
    case "I8": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getInt8(i);
      return { dtype: "int32", shape: e.shape, data: out };
    }
    case "U8": {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i);
      return { dtype: "int32", shape: e.shape, data: out };
    }
    case "BOOL": {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = view.getUint8(i) !== 0 ? 1 : 0;
      return { dtype: "bool", shape: e.shape, data: out };
    }
  }
}

/** Parses and validates safetensors bytes; throws a {@link CheckpointError} naming `source` on any defect, never returning partial data. */
export function decodeSafetensors(bytes: Uint8Array, source: string = MEMORY): SafetensorsContents {
  if (bytes.length < 8) {
    throw new CheckpointError(source, `file is ${bytes.length} bytes, too short for the 8-byte header length (truncated or not a safetensors file)`);
  }
  const headerLen = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) {
    throw new CheckpointError(source, `header length ${headerLen} is over the ${MAX_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`);
  }
  const n = Number(headerLen);
  if (8 + n > bytes.length) {
    throw new CheckpointError(source, `truncated header: header length is ${n} bytes but only ${bytes.length - 8} bytes follow the length prefix`);
  }

  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw new CheckpointError(source, "header is not valid UTF-8");
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(source, `header is not valid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(header)) throw new CheckpointError(source, `header must be a JSON object, got ${describe(header)}`);

  let metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) metadata = validateMetadata(source, info);
    else entries.push(parseEntry(source, name, info));
  }

  const dataStart = 8 + n;
  const available = bytes.length - dataStart;
  let needed = 0;
  for (const e of entries) needed = Math.max(needed, e.end);
  if (needed > available) {
    throw new CheckpointError(
      source,
      `truncated data: header describes ${needed} bytes of tensor data (file size ${dataStart + needed}) but only ${available} are present (file size ${bytes.length})`,
    );
  }
  // The reference requires the tensors to tile the buffer exactly: sorted by offset, each starts where the last ended.
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: TensorEntry | undefined;
  for (const e of byOffset) {
    if (e.begin < cursor) {
      throw new CheckpointError(
        source,
        `tensors ${JSON.stringify(prev?.name)} [${prev?.begin},${prev?.end}] and ${JSON.stringify(e.name)} [${e.begin},${e.end}] overlap`,
      );
    }
    if (e.begin > cursor) {
      throw new CheckpointError(source, `hole in the data buffer: bytes [${cursor},${e.begin}) belong to no tensor (before ${JSON.stringify(e.name)})`);
    }
    cursor = e.end;
    prev = e;
  }
  if (cursor !== available) {
    throw new CheckpointError(source, `data buffer has ${available - cursor} trailing bytes after the last tensor (ends at ${cursor} of ${available})`);
  }

  const tensors = new Map<string, NamedArray>();
  for (const e of entries) tensors.set(e.name, convert(source, e, bytes, dataStart + e.begin));
  return { tensors, metadata };
}
