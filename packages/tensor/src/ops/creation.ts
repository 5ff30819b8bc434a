import type { Backend } from "../backend/contract.js";
import { getBackend } from "../backend/registry.js";
import { type DType, allocTypedArray } from "../dtype.js";
import { TesseraError } from "../errors.js";
import { RandomState } from "../random/random-state.js";
import { assertShape } from "../shape.js";
import { type Tensor, emptyTensor, writeHostData } from "../tensor.js";
import { toTypedArray } from "./convert.js";

/** Options shared by the creation functions. */
export interface CreationOptions {
  /** Element type (default float32). */
  dtype?: DType;
  /** The backend to allocate on; the active backend by default. */
  backend?: Backend;
}

function filled(op: string, shape: readonly number[], value: number, options: CreationOptions): Tensor {
  assertShape(op, shape);
  const backend = options.backend ?? getBackend();
  const t = emptyTensor(backend, shape, options.dtype ?? "float32", op);
  if (t.size > 0) backend.fill(t.storage.buffer, value);
  return t;
}

/** A tensor of zeros. */
export function zeros(shape: readonly number[], options: CreationOptions = {}): Tensor {
  return filled("zeros", shape, 0, options);
}

/** A tensor of ones. */
export function ones(shape: readonly number[], options: CreationOptions = {}): Tensor {
  return filled("ones", shape, 1, options);
}

/** A tensor filled with `value`. */
export function full(shape: readonly number[], value: number, options: CreationOptions = {}): Tensor {
  if (typeof value !== "number") throw new TesseraError("full", `value must be a number, got ${typeof value}`);
  return filled("full", shape, value, options);
}

/** Zeros with the shape (and dtype, backend) of `t`. */
export function zerosLike(t: Tensor, options: CreationOptions = {}): Tensor {
  return filled("zerosLike", t.shape, 0, { dtype: t.dtype, backend: t.backend, ...options });
}

/** Ones with the shape (and dtype, backend) of `t`. */
export function onesLike(t: Tensor, options: CreationOptions = {}): Tensor {
  return filled("onesLike", t.shape, 1, { dtype: t.dtype, backend: t.backend, ...options });
}

/** `value` with the shape (and dtype, backend) of `t`. */
export function fullLike(t: Tensor, value: number, options: CreationOptions = {}): Tensor {
  return filled("fullLike", t.shape, value, { dtype: t.dtype, backend: t.backend, ...options });
}

/** The most elements `arange` makes (the int32 index range every backend supports). */
const MAX_ARANGE = 2 ** 31 - 1;

/**
 * Evenly spaced values in [start, stop) (NumPy's `arange`): `arange(n)` is 0..n-1. The dtype is
 * int32 when every argument is an integer, float32 otherwise.
 */
export function arange(start: number, stop?: number | CreationOptions, step?: number | CreationOptions, options: CreationOptions = {}): Tensor {
  let opts = options;
  let st = 1;
  if (typeof step === "object") opts = step;
  else if (step !== undefined) st = step;
  let end: number | undefined;
  if (typeof stop === "object") opts = stop;
  else end = stop;
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  if (![lo, hi, st].every(Number.isFinite) || st === 0) {
    throw new TesseraError("arange", `expected finite start/stop and a non-zero step, got (${lo}, ${hi}, ${st})`);
  }
  const n = Math.max(0, Math.ceil((hi - lo) / st));
  // Checked before allocating, so a huge range is our error and not the engine's RangeError.
  if (n > MAX_ARANGE) {
    throw new TesseraError("arange", `(${lo}, ${hi}, ${st}) would have ${n} elements (expected at most 2^31 - 1 = ${MAX_ARANGE})`);
  }
  const dtype = opts.dtype ?? ([lo, hi, st].every(Number.isInteger) ? "int32" : "float32");
  const last = lo + (n - 1) * st;
  if (dtype === "int32" && n > 0 && (Math.min(lo, last) < -(2 ** 31) || Math.max(lo, last) > MAX_ARANGE)) {
    throw new TesseraError("arange", `(${lo}, ${hi}, ${st}) has values outside int32 (expected values in [-2^31, 2^31 - 1]; pass { dtype: "float32" })`);
  }
  const t = emptyTensor(opts.backend ?? getBackend(), [n], dtype, "arange");
  const values = allocTypedArray(dtype, n);
  if (dtype === "bool") for (let i = 0; i < n; i++) values[i] = lo + i * st !== 0 ? 1 : 0;
  else for (let i = 0; i < n; i++) values[i] = lo + i * st;
  writeHostData(t, values);
  return t;
}

/** The n x m identity matrix (m = n by default). */
export function eye(n: number, m: number = n, options: CreationOptions = {}): Tensor {
  assertShape("eye", [n, m]);
  const dtype = options.dtype ?? "float32";
  const t = emptyTensor(options.backend ?? getBackend(), [n, m], dtype, "eye");
  const values = allocTypedArray(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) values[i * m + i] = 1;
  writeHostData(t, values);
  return t;
}

let defaultGenerator = new RandomState(0);

/** Reseeds the generator used by `rand`, `randn` and `randint` when none is passed. */
export function seed(value: number): void {
  defaultGenerator = new RandomState(value);
}

/** The generator used when none is passed (numpy-compatible `RandomState`). */
export function getDefaultGenerator(): RandomState {
  return defaultGenerator;
}

/** Options of the random creation functions. */
export interface RandomOptions extends CreationOptions {
  /** The generator to draw from; the default generator (see `seed`) otherwise. */
  generator?: RandomState;
}

/**
 * A tensor of `draw(generator, size)` values. The tensor is allocated first, so a shape the
 * backend cannot hold is refused (naming `op`) before anything is drawn.
 */
function fromDraws(
  op: string,
  shape: readonly number[],
  options: RandomOptions,
  draw: (g: RandomState, n: number) => ArrayLike<number>,
  dtype: DType = "float32",
): Tensor {
  assertShape(op, shape);
  const t = emptyTensor(options.backend ?? getBackend(), shape, dtype, op);
  try {
    writeHostData(t, toTypedArray(draw(options.generator ?? defaultGenerator, t.size), dtype));
  } catch (err) {
    t.dispose();
    throw err;
  }
  return t;
}

/** Uniform samples in [low, high) (numpy's `uniform`, rounded to float32). */
export function randomUniform(shape: readonly number[], low = 0, high = 1, options: RandomOptions = {}): Tensor {
  return fromDraws("randomUniform", shape, options, (g, n) => g.uniform(low, high, n));
}

/** Uniform samples in [0, 1). */
export function rand(shape: readonly number[], options: RandomOptions = {}): Tensor {
  return fromDraws("rand", shape, options, (g, n) => g.uniform(0, 1, n));
}

/** Normal samples (numpy's legacy polar method). */
export function randomNormal(shape: readonly number[], mean = 0, std = 1, options: RandomOptions = {}): Tensor {
  return fromDraws("randomNormal", shape, options, (g, n) => g.normal(mean, std, n));
}

/** Standard normal samples. */
export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  return fromDraws("randn", shape, options, (g, n) => g.normal(0, 1, n));
}

/** Integers in [low, high), int32. */
export function randint(low: number, high: number, shape: readonly number[], options: RandomOptions = {}): Tensor {
  return fromDraws("randint", shape, options, (g, n) => g.randint(low, high, n), "int32");
}
