import type { Backend } from "../backend/contract.js";
import { getBackend } from "../backend/registry.js";
import { type DType, type TypedArray, allocTypedArray, dtypeOfTypedArray, isDType } from "../dtype.js";
import { TesseraError, fmtShape } from "../errors.js";
import { assertShape, sizeOf } from "../shape.js";
import { Tensor, emptyTensor, writeHostData } from "../tensor.js";

/** Nested JavaScript arrays of numbers (or booleans), any depth. */
export type NestedArray = number | boolean | NestedArray[];

/** Anything an op accepts where a tensor is expected: a tensor or a plain number. */
export type TensorLike = Tensor | number;

/** Options of `tensor()`. */
export interface TensorOptions {
  /** Element type; by default an Int32Array gives int32, a Uint8Array or booleans give bool, anything else float32. */
  dtype?: DType;
  /** Shape of the result; by default that of the (nested) data. */
  shape?: readonly number[];
  /** Backend name; the active backend by default. */
  backend?: Backend;
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0]!;
  }
  return shape;
}

function flattenInto(data: NestedArray, shape: readonly number[], depth: number, out: number[], op: string): void {
  if (depth === shape.length) {
    if (Array.isArray(data)) throw new TesseraError(op, `ragged nested array: expected a number at depth ${depth} of shape ${fmtShape(shape)}`);
    const v = typeof data === "boolean" ? Number(data) : data;
    if (typeof v !== "number") throw new TesseraError(op, `expected numbers, got ${typeof data}`);
    out.push(v);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    throw new TesseraError(op, `ragged nested array: expected ${shape[depth]} elements at depth ${depth} for shape ${fmtShape(shape)}`);
  }
  for (const d of data) flattenInto(d, shape, depth + 1, out, op);
}

function containsBoolean(data: NestedArray): boolean {
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    if (level.length === 0) return false;
    level = level[0]!;
  }
  return typeof level === "boolean";
}

/** Converts JS numbers to the storage of `dtype` (float -> int truncates, anything -> bool is != 0). */
export function toTypedArray(values: ArrayLike<number>, dtype: DType): TypedArray {
  const out = allocTypedArray(dtype, values.length);
  if (dtype === "bool") for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
  else out.set(values);
  return out;
}

/**
 * Creates a tensor from nested arrays, a typed array or a number. The dtype is inferred
 * (Float32Array/numbers -> float32, Int32Array -> int32, Uint8Array/booleans -> bool) unless given.
 */
export function tensor(data: NestedArray | TypedArray | ArrayLike<number>, options: TensorOptions = {}): Tensor {
  const op = "tensor";
  if (options.dtype !== undefined && !isDType(options.dtype)) {
    throw new TesseraError(op, `unknown dtype ${JSON.stringify(options.dtype)} (expected float32, int32 or bool)`);
  }
  let values: ArrayLike<number>;
  let shape: number[];
  let dtype: DType;
  const typed = ArrayBuffer.isView(data) ? dtypeOfTypedArray(data as ArrayLike<number>) : undefined;
  if (ArrayBuffer.isView(data)) {
    values = data as unknown as ArrayLike<number>;
    shape = [values.length];
    dtype = options.dtype ?? typed ?? "float32";
  } else if (typeof data === "number" || typeof data === "boolean") {
    values = [Number(data)];
    shape = [];
    dtype = options.dtype ?? (typeof data === "boolean" ? "bool" : "float32");
  } else if (Array.isArray(data)) {
    shape = inferShape(data);
    const flat: number[] = [];
    flattenInto(data, shape, 0, flat, op);
    values = flat;
    dtype = options.dtype ?? (containsBoolean(data) ? "bool" : "float32");
  } else {
    throw new TesseraError(op, `expected nested arrays, a typed array or a number, got ${data === null ? "null" : typeof data}`);
  }
  if (options.shape !== undefined) {
    assertShape(op, options.shape);
    if (sizeOf(options.shape) !== values.length) {
      throw new TesseraError(op, `shape ${fmtShape(options.shape)} needs ${sizeOf(options.shape)} elements but the data has ${values.length}`);
    }
    shape = [...options.shape];
  }
  const backend = options.backend ?? getBackend();
  const storage = typed === dtype ? (values as TypedArray) : toTypedArray(values, dtype);
  const t = emptyTensor(backend, shape, dtype, op);
  writeHostData(t, typed === dtype ? storage.slice() : storage);
  return t;
}

/** Turns numbers into scalar tensors of a dtype suited to `like` (the other operand). */
export function asTensor(x: TensorLike, op: string, like?: Tensor): Tensor {
  if (x instanceof Tensor) {
    x.assertLive(op);
    return x;
  }
  if (typeof x !== "number") throw new TesseraError(op, `expected a Tensor or a number, got ${x === null ? "null" : typeof x}`);
  const dtype: DType = like && like.dtype !== "bool" && (like.dtype === "float32" || Number.isInteger(x)) ? like.dtype : "float32";
  return tensor(x, { dtype, backend: like?.backend ?? getBackend() });
}

/** Nests a flat row-major array into arrays of `shape` (bool elements stay 0/1). */
export function nest(flat: ArrayLike<number>, shape: readonly number[]): NestedArray {
  if (shape.length === 0) return flat[0]!;
  let pos = 0;
  const build = (d: number): NestedArray[] => {
    const n = shape[d]!;
    const out: NestedArray[] = new Array(n);
    if (d === shape.length - 1) for (let i = 0; i < n; i++) out[i] = flat[pos++]!;
    else for (let i = 0; i < n; i++) out[i] = build(d + 1);
    return out;
  };
  return build(0);
}
