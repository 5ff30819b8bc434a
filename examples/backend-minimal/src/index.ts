/**
 * A minimal Tessera backend: plain arrays, only the primitives the contract requires, no heavy
 * kernels. The core computes matmul, convolution, pooling and gather from these primitives.
 * Import this module once to register it under the name `minimal`.
 */
import {
  type Backend,
  type BackendBuffer,
  type BinaryOp,
  type DType,
  type ReduceOp,
  type StridedView,
  type TypedArray,
  type UnaryOp,
  registerBackend,
} from "@tessera/tensor";

/** Our buffer: the elements in a typed array of the dtype's storage type. */
class Buffer implements BackendBuffer {
  constructor(
    readonly dtype: DType,
    readonly data: TypedArray,
  ) {}
  get size(): number {
    return this.data.length;
  }
}

const data = (b: BackendBuffer) => (b as Buffer).data;

/** The buffer offset of every element of a strided view, in row-major order. */
function offsets(v: StridedView): Int32Array {
  const rank = v.shape.length;
  const n = v.shape.reduce((a, b) => a * b, 1);
  const out = new Int32Array(n);
  if (n === 0) return out;
  const last = rank === 0 ? 1 : v.shape[rank - 1]!;
  const step = rank === 0 ? 0 : v.strides[rank - 1]!;
  const index = new Array<number>(Math.max(rank - 1, 0)).fill(0);
  let base = v.offset;
  for (let i = 0; i < n; i += last) {
    for (let j = 0; j < last; j++) out[i + j] = base + j * step;
    // Advance the outer index like an odometer.
    for (let d = rank - 2; d >= 0; d--) {
      index[d]!++;
      base += v.strides[d]!;
      if (index[d]! < v.shape[d]!) break;
      base -= v.strides[d]! * v.shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** Reads a strided view into a dense array (row-major). */
function gather(v: StridedView): Float64Array {
  const src = data(v.buffer);
  const at = offsets(v);
  const out = new Float64Array(at.length);
  for (let i = 0; i < at.length; i++) out[i] = src[at[i]!]!;
  return out;
}

const unaryOps: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: Math.sign,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0),
  floor: Math.floor,
  ceil: Math.ceil,
  sin: Math.sin,
  cos: Math.cos,
  logicalNot: (x) => (x ? 0 : 1),
};

const binaryOps: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: (a, b) => (Number.isNaN(a) || a > b ? a : b),
  minimum: (a, b) => (Number.isNaN(a) || a < b ? a : b),
  equal: (a, b) => +(a === b),
  notEqual: (a, b) => +(a !== b),
  less: (a, b) => +(a < b),
  lessEqual: (a, b) => +(a <= b),
  greater: (a, b) => +(a > b),
  greaterEqual: (a, b) => +(a >= b),
  logicalAnd: (a, b) => +(a !== 0 && b !== 0),
  logicalOr: (a, b) => +(a !== 0 || b !== 0),
};

function reduceRow(op: ReduceOp, row: TypedArray): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) {
    const v = row[i]!;
    const b = row[best]!;
    if (Number.isNaN(b)) break;
    if (Number.isNaN(v) || ((op === "max" || op === "argmax") && v > b) || ((op === "min" || op === "argmin") && v < b)) best = i;
  }
  if (op === "argmax" || op === "argmin") return best;
  if (op === "max" || op === "min") return row[best]!;
  let acc = op === "sum" ? 0 : 1;
  for (const v of row) acc = op === "sum" ? acc + v : acc * v;
  return acc;
}

/** Creates the backend. */
export function createMinimalBackend(): Backend {
  return {
    name: "minimal",
    alloc: (size, dtype) => new Buffer(dtype, dtype === "float32" ? new Float32Array(size) : dtype === "int32" ? new Int32Array(size) : new Uint8Array(size)),
    free: () => {},
    write: (buffer, values) => data(buffer).set(values),
    read: async (buffer) => data(buffer).slice(),
    readSync: (buffer) => data(buffer).slice(),
    fill: (buffer, value) => data(buffer).fill(buffer.dtype === "bool" ? +(value !== 0) : value),
    copy(src, dst) {
      const values = gather(src);
      const out = data(dst.buffer);
      const toInt = dst.buffer.dtype === "int32";
      const toBool = dst.buffer.dtype === "bool";
      const at = offsets(dst);
      for (let i = 0; i < at.length; i++) {
        const v = values[i]!;
        out[at[i]!] = toBool ? +(v !== 0) : toInt ? Math.trunc(v) : v;
      }
    },
    unary(op, x, out) {
      const f = unaryOps[op];
      const xs = gather(x);
      const o = data(out);
      for (let i = 0; i < xs.length; i++) o[i] = f(xs[i]!);
    },
    binary(op, a, b, out) {
      const f = op === "mul" && a.buffer.dtype === "int32" ? Math.imul : binaryOps[op];
      const [as, bs] = [gather(a), gather(b)];
      const o = data(out);
      for (let i = 0; i < as.length; i++) o[i] = f(as[i]!, bs[i]!);
    },
    where(cond, a, b, out) {
      const [c, av, bv] = [gather(cond), gather(a), gather(b)];
      const o = data(out);
      for (let i = 0; i < c.length; i++) o[i] = c[i] ? av[i]! : bv[i]!;
    },
    reduce(op, x, outer, inner, out) {
      const src = data(x);
      for (let r = 0; r < outer; r++) data(out)[r] = reduceRow(op, src.subarray(r * inner, (r + 1) * inner));
    },
  };
}

registerBackend("minimal", createMinimalBackend);
