/**
 * Independent float64 reference implementation of every tensor op.
 *
 * Used by the conformance suite to check every backend. It is written plainly for obvious
 * correctness (nested loops over explicit indices), not for speed, and deliberately shares no
 * code with the real implementation: this module imports nothing.
 *
 * Semantics follow NumPy / PyTorch unless a comment says otherwise.
 */

// ---------------------------------------------------------------------------------------------
// Array type and small index helpers
// ---------------------------------------------------------------------------------------------

/** A dense row-major float64 array: `data.length` is the product of `shape`; a scalar has shape `[]`. */
export interface RefArray {
  /** Dimension sizes. */
  shape: number[];
  /** The elements, row-major. */
  data: Float64Array;
}

function fail(message: string): never {
  throw new Error(`reference: ${message}`);
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function checkShape(shape: readonly number[], what: string): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      fail(`${what}: invalid shape ${fmt(shape)} (dims must be non-negative integers)`);
    }
  }
  return [...shape];
}

/** Row-major multi-index of flat position `flat` in `shape`. */
function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  let rest = flat;
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k]!;
    idx[k] = rest % d;
    rest = Math.floor(rest / d);
  }
  return idx;
}

/** Row-major flat position of multi-index `idx` in `shape`. */
function ravel(idx: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let k = 0; k < shape.length; k++) flat = flat * shape[k]! + idx[k]!;
  return flat;
}

/** Flat position in `inShape` of output multi-index `outIdx` under NumPy broadcasting. */
function broadcastFlat(outIdx: readonly number[], inShape: readonly number[]): number {
  const offset = outIdx.length - inShape.length;
  let flat = 0;
  for (let k = 0; k < inShape.length; k++) {
    const d = inShape[k]!;
    flat = flat * d + (d === 1 ? 0 : outIdx[offset + k]!);
  }
  return flat;
}

function normAxis(axis: number, rank: number, what: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    fail(`${what}: axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

function empty(shape: readonly number[]): RefArray {
  return { shape: [...shape], data: new Float64Array(sizeOf(shape)) };
}

function checkArray(x: RefArray, what: string): void {
  checkShape(x.shape, what);
  if (x.data.length !== sizeOf(x.shape)) {
    fail(`${what}: data length ${x.data.length} does not match shape ${fmt(x.shape)}`);
  }
}

function checkRank(x: RefArray, rank: number, what: string): void {
  checkArray(x, what);
  if (x.shape.length !== rank) fail(`${what}: expected rank ${rank}, got shape ${fmt(x.shape)}`);
}

function isIntegerValue(v: number): boolean {
  return Number.isInteger(v);
}

/** Flat offsets of every 1-D line along `axis`, one array per line, lines in row-major order. */
function linesAlong(shape: readonly number[], axis: number): number[][] {
  const outer = shape.map((d, k) => (k === axis ? 1 : d));
  const lines: number[][] = [];
  const count = sizeOf(outer);
  for (let o = 0; o < count; o++) {
    const idx = unravel(o, outer);
    const line: number[] = [];
    for (let t = 0; t < shape[axis]!; t++) {
      idx[axis] = t;
      line.push(ravel(idx, shape));
    }
    lines.push(line);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Construction
// ---------------------------------------------------------------------------------------------

/** Builds a RefArray of `shape` from row-major `values` (copied into a Float64Array). */
export function ref(shape: readonly number[], values: ArrayLike<number>): RefArray {
  const s = checkShape(shape, "ref");
  if (values.length !== sizeOf(s)) {
    fail(`ref: ${values.length} values do not fill shape ${fmt(s)} (needs ${sizeOf(s)})`);
  }
  const data = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = values[i]!;
  return { shape: s, data };
}

// ---------------------------------------------------------------------------------------------
// Elementwise
// ---------------------------------------------------------------------------------------------

/** Names of the elementwise unary ops. */
export type UnaryOp = "neg" | "abs" | "sign" | "exp" | "log" | "sqrt" | "tanh" | "sigmoid" | "relu" | "floor" | "ceil" | "sin" | "cos" | "logicalNot";

const UNARY: Record<UnaryOp, (v: number) => number> = {
  neg: (v) => -v,
  abs: (v) => Math.abs(v),
  sign: (v) => (v > 0 ? 1 : v < 0 ? -1 : v), // 0 -> 0, -0 -> -0, NaN -> NaN
  exp: (v) => Math.exp(v),
  log: (v) => Math.log(v),
  sqrt: (v) => Math.sqrt(v),
  tanh: (v) => Math.tanh(v),
  sigmoid: (v) => 1 / (1 + Math.exp(-v)),
  relu: (v) => (Number.isNaN(v) ? v : Math.max(v, 0)), // NaN propagates like PyTorch
  floor: (v) => Math.floor(v),
  ceil: (v) => Math.ceil(v),
  sin: (v) => Math.sin(v),
  cos: (v) => Math.cos(v),
  logicalNot: (v) => (v === 0 ? 1 : 0),
};

/** Applies elementwise unary `op` to `x`. */
export function unary(op: UnaryOp, x: RefArray): RefArray {
  if (!Object.hasOwn(UNARY, op)) fail(`unary: unknown op "${String(op)}"`);
  checkArray(x, `unary(${op})`);
  const f = UNARY[op];
  const out = empty(x.shape);
  for (let i = 0; i < x.data.length; i++) out.data[i] = f(x.data[i]!);
  return out;
}

/** Names of the elementwise binary ops (comparisons and logical ops produce 1/0). */
export type BinaryOp =
  | "add"
  | "sub"
  | "mul"
  | "div"
  | "pow"
  | "maximum"
  | "minimum"
  | "equal"
  | "notEqual"
  | "less"
  | "lessEqual"
  | "greater"
  | "greaterEqual"
  | "logicalAnd"
  | "logicalOr";

/** C99 / NumPy pow: differs from Math.pow only for pow(1, y) and pow(-1, +-Infinity), which are 1. */
function cPow(a: number, b: number): number {
  if (a === 1) return 1;
  if (a === -1 && (b === Infinity || b === -Infinity)) return 1;
  return a ** b;
}

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: cPow,
  maximum: (a, b) => Math.max(a, b), // NaN propagates like NumPy
  minimum: (a, b) => Math.min(a, b),
  equal: (a, b) => (a === b ? 1 : 0),
  notEqual: (a, b) => (a !== b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  lessEqual: (a, b) => (a <= b ? 1 : 0),
  greater: (a, b) => (a > b ? 1 : 0),
  greaterEqual: (a, b) => (a >= b ? 1 : 0),
  logicalAnd: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  logicalOr: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
};

/** NumPy broadcast of two shapes (or of the shapes of two arrays); throws on incompatible dims. */
export function broadcastShape(a: readonly number[] | RefArray, b: readonly number[] | RefArray): number[] {
  const sa = "shape" in a ? a.shape : a;
  const sb = "shape" in b ? b.shape : b;
  const rank = Math.max(sa.length, sb.length);
  const out = new Array<number>(rank);
  for (let k = 0; k < rank; k++) {
    const da = k - (rank - sa.length) >= 0 ? sa[k - (rank - sa.length)]! : 1;
    const db = k - (rank - sb.length) >= 0 ? sb[k - (rank - sb.length)]! : 1;
    if (da === db) out[k] = da;
    else if (da === 1) out[k] = db;
    else if (db === 1) out[k] = da;
    else fail(`broadcastShape: shapes ${fmt(sa)} and ${fmt(sb)} are not broadcastable (axis ${k})`);
  }
  return out;
}

/** Applies elementwise binary `op` to `a` and `b` with NumPy broadcasting. */
export function binary(op: BinaryOp, a: RefArray, b: RefArray): RefArray {
  if (!Object.hasOwn(BINARY, op)) fail(`binary: unknown op "${String(op)}"`);
  checkArray(a, `binary(${op}) lhs`);
  checkArray(b, `binary(${op}) rhs`);
  const f = BINARY[op];
  const out = empty(broadcastShape(a.shape, b.shape));
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, out.shape);
    out.data[i] = f(a.data[broadcastFlat(idx, a.shape)]!, b.data[broadcastFlat(idx, b.shape)]!);
  }
  return out;
}

/** Three-way broadcast select: `cond != 0 ? a : b` (a NaN condition counts as true). */
export function where(cond: RefArray, a: RefArray, b: RefArray): RefArray {
  checkArray(cond, "where cond");
  checkArray(a, "where a");
  checkArray(b, "where b");
  const out = empty(broadcastShape(broadcastShape(cond.shape, a.shape), b.shape));
  for (let i = 0; i < out.data.length; i++) {
    const idx = unravel(i, out.shape);
    const c = cond.data[broadcastFlat(idx, cond.shape)]!;
    out.data[i] = c !== 0 ? a.data[broadcastFlat(idx, a.shape)]! : b.data[broadcastFlat(idx, b.shape)]!;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reductions
// ---------------------------------------------------------------------------------------------

/** Names of the reductions. */
export type ReduceOp = "sum" | "prod" | "max" | "min" | "mean";

/** Reduces `x` with `op` over `axes` (undefined = all axes, negative allowed), optionally keeping reduced dims as 1. */
export function reduce(op: ReduceOp, x: RefArray, axes?: readonly number[], keepdims = false): RefArray {
  if (!["sum", "prod", "max", "min", "mean"].includes(op)) fail(`reduce: unknown op "${String(op)}"`);
  checkArray(x, `reduce(${op})`);
  const rank = x.shape.length;
  const reduced = new Array<boolean>(rank).fill(axes === undefined);
  if (axes !== undefined) {
    for (const axis of axes) {
      const a = normAxis(axis, rank, `reduce(${op})`);
      if (reduced[a]) fail(`reduce(${op}): duplicate axis ${axis} in ${fmt(axes)}`);
      reduced[a] = true;
    }
  }
  const keptShape = x.shape.map((d, k) => (reduced[k] ? 1 : d));
  const outShape = keepdims ? keptShape : x.shape.filter((_, k) => !reduced[k]);
  let count = 1;
  for (let k = 0; k < rank; k++) if (reduced[k]) count *= x.shape[k]!;
  const outSize = sizeOf(keptShape);
  if (count === 0 && (op === "max" || op === "min")) {
    fail(`reduce(${op}): zero-size reduction over shape ${fmt(x.shape)} has no identity`);
  }

  const init = op === "prod" ? 1 : op === "max" ? -Infinity : op === "min" ? Infinity : 0;
  const acc = new Float64Array(outSize).fill(init);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    for (let k = 0; k < rank; k++) if (reduced[k]) idx[k] = 0;
    const o = ravel(idx, keptShape);
    const v = x.data[i]!;
    if (op === "sum" || op === "mean") acc[o] = acc[o]! + v;
    else if (op === "prod") acc[o] = acc[o]! * v;
    else if (op === "max")
      acc[o] = Math.max(acc[o]!, v); // NaN propagates
    else acc[o] = Math.min(acc[o]!, v);
  }
  if (op === "mean") for (let o = 0; o < outSize; o++) acc[o] = acc[o]! / count;
  return { shape: outShape, data: acc };
}

function argReduce(kind: "argmax" | "argmin", x: RefArray, axis: number | undefined, keepdims: boolean): RefArray {
  checkArray(x, kind);
  // `better(v, best)`: strictly better, so the first occurrence wins; the first NaN wins outright (NumPy).
  const better = (v: number, best: number): boolean => {
    if (Number.isNaN(best)) return false;
    if (Number.isNaN(v)) return true;
    return kind === "argmax" ? v > best : v < best;
  };
  if (axis === undefined) {
    if (x.data.length === 0) fail(`${kind}: empty array of shape ${fmt(x.shape)}`);
    let bestIndex = 0;
    for (let i = 1; i < x.data.length; i++) {
      if (better(x.data[i]!, x.data[bestIndex]!)) bestIndex = i;
    }
    const shape = keepdims ? x.shape.map(() => 1) : [];
    return { shape, data: Float64Array.of(bestIndex) };
  }
  const a = normAxis(axis, x.shape.length, kind);
  const keptShape = x.shape.map((d, k) => (k === a ? 1 : d));
  const outShape = keepdims ? keptShape : x.shape.filter((_, k) => k !== a);
  if (x.shape[a] === 0) fail(`${kind}: empty axis ${axis} in shape ${fmt(x.shape)}`);
  const lines = linesAlong(x.shape, a);
  const data = new Float64Array(lines.length);
  for (let l = 0; l < lines.length; l++) {
    const line = lines[l]!;
    let bestT = 0;
    for (let t = 1; t < line.length; t++) {
      if (better(x.data[line[t]!]!, x.data[line[bestT]!]!)) bestT = t;
    }
    data[l] = bestT;
  }
  return { shape: outShape, data };
}

/** Index of the maximum along `axis` (undefined = over the flattened array, result shape []); first occurrence wins. */
export function argmax(x: RefArray, axis?: number, keepdims = false): RefArray {
  return argReduce("argmax", x, axis, keepdims);
}

/** Index of the minimum along `axis` (undefined = over the flattened array, result shape []); first occurrence wins. */
export function argmin(x: RefArray, axis?: number, keepdims = false): RefArray {
  return argReduce("argmin", x, axis, keepdims);
}

// ---------------------------------------------------------------------------------------------
// Linear algebra
// ---------------------------------------------------------------------------------------------

/** NumPy matmul: 1-D operands are promoted to a matrix and the added dim is removed; batch dims broadcast. */
export function matmul(a: RefArray, b: RefArray): RefArray {
  checkArray(a, "matmul lhs");
  checkArray(b, "matmul rhs");
  if (a.shape.length === 0 || b.shape.length === 0) {
    fail(`matmul: operands must have rank >= 1, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  const aVector = a.shape.length === 1;
  const bVector = b.shape.length === 1;
  const aShape = aVector ? [1, a.shape[0]!] : a.shape;
  const bShape = bVector ? [b.shape[0]!, 1] : b.shape;
  const M = aShape[aShape.length - 2]!;
  const K = aShape[aShape.length - 1]!;
  const K2 = bShape[bShape.length - 2]!;
  const N = bShape[bShape.length - 1]!;
  if (K !== K2) fail(`matmul: inner dims differ: ${fmt(a.shape)} @ ${fmt(b.shape)}`);
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShape(aBatch, bBatch);
  const full = empty([...batch, M, N]);
  const batchCount = sizeOf(batch);
  for (let t = 0; t < batchCount; t++) {
    const bIdx = unravel(t, batch);
    const aBase = broadcastFlat(bIdx, aBatch) * M * K;
    const bBase = broadcastFlat(bIdx, bBatch) * K * N;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a.data[aBase + i * K + k]! * b.data[bBase + k * N + j]!;
        full.data[t * M * N + i * N + j] = s;
      }
    }
  }
  const outShape = [...batch];
  if (!aVector) outShape.push(M);
  if (!bVector) outShape.push(N);
  return { shape: outShape, data: full.data };
}

// ---------------------------------------------------------------------------------------------
// Convolution
// ---------------------------------------------------------------------------------------------

/** conv2d hyper-parameters; defaults: stride [1,1], padding [0,0], dilation [1,1], groups 1. */
export interface Conv2dParams {
  stride?: [number, number];
  padding?: [number, number];
  dilation?: [number, number];
  groups?: number;
}

interface ConvGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  Cg: number; // input channels per group
  Og: number; // output channels per group
  KH: number;
  KW: number;
  OH: number;
  OW: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
}

function checkPair(p: readonly number[], min: number, what: string): [number, number] {
  if (p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= min)) {
    fail(`${what} must be two integers >= ${min}, got ${fmt(p)}`);
  }
  return [p[0]!, p[1]!];
}

function convGeometry(xShape: readonly number[], wShape: readonly number[], params: Conv2dParams, what: string): ConvGeometry {
  checkShape(xShape, `${what} input`);
  checkShape(wShape, `${what} weight`);
  if (xShape.length !== 4) fail(`${what}: input must be [N,C,H,W], got ${fmt(xShape)}`);
  if (wShape.length !== 4) fail(`${what}: weight must be [O,C/groups,KH,KW], got ${fmt(wShape)}`);
  const [sh, sw] = checkPair(params.stride ?? [1, 1], 1, `${what}: stride`);
  const [ph, pw] = checkPair(params.padding ?? [0, 0], 0, `${what}: padding`);
  const [dh, dw] = checkPair(params.dilation ?? [1, 1], 1, `${what}: dilation`);
  const groups = params.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) fail(`${what}: groups must be an integer >= 1, got ${groups}`);
  const [N, C, H, W] = xShape as [number, number, number, number];
  const [O, Cg, KH, KW] = wShape as [number, number, number, number];
  if (Cg * groups !== C) {
    fail(`${what}: input channels ${C} != weight channels ${Cg} * groups ${groups} (x ${fmt(xShape)}, w ${fmt(wShape)})`);
  }
  if (O % groups !== 0) fail(`${what}: output channels ${O} not divisible by groups ${groups}`);
  const OH = Math.floor((H + 2 * ph - dh * (KH - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (KW - 1) - 1) / sw) + 1;
  if (OH < 1 || OW < 1) {
    fail(`${what}: output would be empty (${OH}x${OW}) for input ${fmt(xShape)} and weight ${fmt(wShape)}`);
  }
  return { N, C, H, W, O, Cg, Og: O / groups, KH, KW, OH, OW, sh, sw, ph, pw, dh, dw };
}

function idx4(shape: readonly number[], a: number, b: number, c: number, d: number): number {
  return ((a * shape[1]! + b) * shape[2]! + c) * shape[3]! + d;
}

function checkDy(dy: RefArray, expected: readonly number[], what: string): void {
  checkArray(dy, `${what} dy`);
  if (dy.shape.length !== expected.length || dy.shape.some((d, k) => d !== expected[k])) {
    fail(`${what}: dy has shape ${fmt(dy.shape)}, forward output shape is ${fmt(expected)}`);
  }
}

/** 2-D cross-correlation with zero padding, stride, dilation and groups; x [N,C,H,W], w [O,C/g,KH,KW]. */
export function conv2d(x: RefArray, w: RefArray, params: Conv2dParams = {}): RefArray {
  checkArray(x, "conv2d x");
  checkArray(w, "conv2d w");
  const g = convGeometry(x.shape, w.shape, params, "conv2d");
  const out = empty([g.N, g.O, g.OH, g.OW]);
  for (let n = 0; n < g.N; n++) {
    for (let o = 0; o < g.O; o++) {
      const groupStart = Math.floor(o / g.Og) * g.Cg;
      for (let i = 0; i < g.OH; i++) {
        for (let j = 0; j < g.OW; j++) {
          let s = 0;
          for (let cl = 0; cl < g.Cg; cl++) {
            const c = groupStart + cl;
            for (let ki = 0; ki < g.KH; ki++) {
              for (let kj = 0; kj < g.KW; kj++) {
                const ih = i * g.sh - g.ph + ki * g.dh;
                const iw = j * g.sw - g.pw + kj * g.dw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue; // zero padding
                s += x.data[idx4(x.shape, n, c, ih, iw)]! * w.data[idx4(w.shape, o, cl, ki, kj)]!;
              }
            }
          }
          out.data[idx4(out.shape, n, o, i, j)] = s;
        }
      }
    }
  }
  return out;
}

/** Vector-Jacobian product of conv2d with respect to its input: scatters dy * w into a zero array of `xShape`. */
export function conv2dBackwardInput(dy: RefArray, w: RefArray, xShape: readonly number[], params: Conv2dParams = {}): RefArray {
  checkArray(w, "conv2dBackwardInput w");
  const g = convGeometry(xShape, w.shape, params, "conv2dBackwardInput");
  checkDy(dy, [g.N, g.O, g.OH, g.OW], "conv2dBackwardInput");
  const dx = empty(xShape);
  for (let n = 0; n < g.N; n++) {
    for (let o = 0; o < g.O; o++) {
      const groupStart = Math.floor(o / g.Og) * g.Cg;
      for (let i = 0; i < g.OH; i++) {
        for (let j = 0; j < g.OW; j++) {
          const gy = dy.data[idx4(dy.shape, n, o, i, j)]!;
          for (let cl = 0; cl < g.Cg; cl++) {
            const c = groupStart + cl;
            for (let ki = 0; ki < g.KH; ki++) {
              for (let kj = 0; kj < g.KW; kj++) {
                const ih = i * g.sh - g.ph + ki * g.dh;
                const iw = j * g.sw - g.pw + kj * g.dw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                const at = idx4(dx.shape, n, c, ih, iw);
                dx.data[at] = dx.data[at]! + gy * w.data[idx4(w.shape, o, cl, ki, kj)]!;
              }
            }
          }
        }
      }
    }
  }
  return dx;
}

/** Vector-Jacobian product of conv2d with respect to its weight: scatters x * dy into a zero array of `wShape`. */
export function conv2dBackwardWeight(x: RefArray, dy: RefArray, wShape: readonly number[], params: Conv2dParams = {}): RefArray {
  checkArray(x, "conv2dBackwardWeight x");
  const g = convGeometry(x.shape, wShape, params, "conv2dBackwardWeight");
  checkDy(dy, [g.N, g.O, g.OH, g.OW], "conv2dBackwardWeight");
  const dw = empty(wShape);
  for (let n = 0; n < g.N; n++) {
    for (let o = 0; o < g.O; o++) {
      const groupStart = Math.floor(o / g.Og) * g.Cg;
      for (let i = 0; i < g.OH; i++) {
        for (let j = 0; j < g.OW; j++) {
          const gy = dy.data[idx4(dy.shape, n, o, i, j)]!;
          for (let cl = 0; cl < g.Cg; cl++) {
            const c = groupStart + cl;
            for (let ki = 0; ki < g.KH; ki++) {
              for (let kj = 0; kj < g.KW; kj++) {
                const ih = i * g.sh - g.ph + ki * g.dh;
                const iw = j * g.sw - g.pw + kj * g.dw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                const at = idx4(dw.shape, o, cl, ki, kj);
                dw.data[at] = dw.data[at]! + x.data[idx4(x.shape, n, c, ih, iw)]! * gy;
              }
            }
          }
        }
      }
    }
  }
  return dw;
}

// ---------------------------------------------------------------------------------------------
// Pooling
// ---------------------------------------------------------------------------------------------

/** Pooling hyper-parameters; defaults: stride = kernel, padding [0,0], ceilMode false. */
export interface Pool2dParams {
  kernel: [number, number];
  stride?: [number, number];
  padding?: [number, number];
  ceilMode?: boolean;
}

interface PoolGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  KH: number;
  KW: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  OH: number;
  OW: number;
}

/** Output length along one axis (PyTorch's pooling_output_shape). */
function poolOutSize(size: number, k: number, s: number, p: number, ceilMode: boolean): number {
  if (ceilMode) {
    let out = Math.ceil((size + 2 * p - k) / s) + 1;
    // The last window must start inside the input or the left padding.
    if ((out - 1) * s >= size + p) out -= 1;
    return out;
  }
  return Math.floor((size + 2 * p - k) / s) + 1;
}

function poolGeometry(xShape: readonly number[], params: Pool2dParams, what: string): PoolGeometry {
  checkShape(xShape, `${what} input`);
  if (xShape.length !== 4) fail(`${what}: input must be [N,C,H,W], got ${fmt(xShape)}`);
  const [KH, KW] = checkPair(params.kernel, 1, `${what}: kernel`);
  const [sh, sw] = checkPair(params.stride ?? params.kernel, 1, `${what}: stride`);
  const [ph, pw] = checkPair(params.padding ?? [0, 0], 0, `${what}: padding`);
  const [N, C, H, W] = xShape as [number, number, number, number];
  const ceilMode = params.ceilMode ?? false;
  const OH = poolOutSize(H, KH, sh, ph, ceilMode);
  const OW = poolOutSize(W, KW, sw, pw, ceilMode);
  if (OH < 1 || OW < 1) {
    fail(`${what}: output would be empty (${OH}x${OW}) for input ${fmt(xShape)} and kernel ${fmt(params.kernel)}`);
  }
  return { N, C, H, W, KH, KW, sh, sw, ph, pw, OH, OW };
}

/** Flat x offsets of the real input cells covered by window (i, j) of plane (n, c), in row-major order. */
function windowCells(g: PoolGeometry, xShape: readonly number[], n: number, c: number, i: number, j: number, what: string): number[] {
  const cells: number[] = [];
  for (let a = 0; a < g.KH; a++) {
    for (let b = 0; b < g.KW; b++) {
      const ih = i * g.sh - g.ph + a;
      const iw = j * g.sw - g.pw + b;
      if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue; // padding or absent (ceil mode)
      cells.push(idx4(xShape, n, c, ih, iw));
    }
  }
  if (cells.length === 0) fail(`${what}: window (${i}, ${j}) covers no input cell (padding too large?)`);
  return cells;
}

/** The first maximal cell among `cells` (a NaN wins, the first one). */
function firstMaxCell(x: RefArray, cells: readonly number[]): number {
  let best = cells[0]!;
  for (const cell of cells) {
    const v = x.data[cell]!;
    const bv = x.data[best]!;
    if (Number.isNaN(bv)) break;
    if (Number.isNaN(v) || v > bv) best = cell;
  }
  return best;
}

/** 2-D max pooling over real input cells only (padding and cells past the end never compete). */
export function maxPool2d(x: RefArray, params: Pool2dParams): RefArray {
  checkArray(x, "maxPool2d x");
  const g = poolGeometry(x.shape, params, "maxPool2d");
  const out = empty([g.N, g.C, g.OH, g.OW]);
  for (let n = 0; n < g.N; n++) {
    for (let c = 0; c < g.C; c++) {
      for (let i = 0; i < g.OH; i++) {
        for (let j = 0; j < g.OW; j++) {
          const cells = windowCells(g, x.shape, n, c, i, j, "maxPool2d");
          out.data[idx4(out.shape, n, c, i, j)] = x.data[firstMaxCell(x, cells)]!;
        }
      }
    }
  }
  return out;
}

/** Gradient of maxPool2d: routes each dy to the first maximal cell of its window, accumulating over overlaps. */
export function maxPool2dBackward(x: RefArray, dy: RefArray, params: Pool2dParams): RefArray {
  checkArray(x, "maxPool2dBackward x");
  const g = poolGeometry(x.shape, params, "maxPool2dBackward");
  checkDy(dy, [g.N, g.C, g.OH, g.OW], "maxPool2dBackward");
  const dx = empty(x.shape);
  for (let n = 0; n < g.N; n++) {
    for (let c = 0; c < g.C; c++) {
      for (let i = 0; i < g.OH; i++) {
        for (let j = 0; j < g.OW; j++) {
          const cells = windowCells(g, x.shape, n, c, i, j, "maxPool2dBackward");
          const at = firstMaxCell(x, cells);
          dx.data[at] = dx.data[at]! + dy.data[idx4(dy.shape, n, c, i, j)]!;
        }
      }
    }
  }
  return dx;
}

/** 2-D average pooling dividing by the number of real input cells each window covers (padding not counted). */
export function avgPool2d(x: RefArray, params: Pool2dParams): RefArray {
  checkArray(x, "avgPool2d x");
  const g = poolGeometry(x.shape, params, "avgPool2d");
  const out = empty([g.N, g.C, g.OH, g.OW]);
  for (let n = 0; n < g.N; n++) {
    for (let c = 0; c < g.C; c++) {
      for (let i = 0; i < g.OH; i++) {
        for (let j = 0; j < g.OW; j++) {
          const cells = windowCells(g, x.shape, n, c, i, j, "avgPool2d");
          let s = 0;
          for (const cell of cells) s += x.data[cell]!;
          out.data[idx4(out.shape, n, c, i, j)] = s / cells.length;
        }
      }
    }
  }
  return out;
}

/** Gradient of avgPool2d: spreads each dy evenly over the real cells of its window, accumulating over overlaps. */
export function avgPool2dBackward(dy: RefArray, xShape: readonly number[], params: Pool2dParams): RefArray {
  const g = poolGeometry(xShape, params, "avgPool2dBackward");
  checkDy(dy, [g.N, g.C, g.OH, g.OW], "avgPool2dBackward");
  const dx = empty(xShape);
  for (let n = 0; n < g.N; n++) {
    for (let c = 0; c < g.C; c++) {
      for (let i = 0; i < g.OH; i++) {
        for (let j = 0; j < g.OW; j++) {
          const cells = windowCells(g, xShape, n, c, i, j, "avgPool2dBackward");
          const share = dy.data[idx4(dy.shape, n, c, i, j)]! / cells.length;
          for (const cell of cells) dx.data[cell] = dx.data[cell]! + share;
        }
      }
    }
  }
  return dx;
}

// ---------------------------------------------------------------------------------------------
// Shape ops
// ---------------------------------------------------------------------------------------------

/** Same data under a new shape; one dim may be -1 (inferred). */
export function reshape(x: RefArray, shape: readonly number[]): RefArray {
  checkArray(x, "reshape");
  const size = x.data.length;
  const out = [...shape];
  let inferAt = -1;
  let known = 1;
  for (let k = 0; k < out.length; k++) {
    const d = out[k]!;
    if (d === -1) {
      if (inferAt >= 0) fail(`reshape: more than one -1 in ${fmt(shape)}`);
      inferAt = k;
    } else if (!Number.isInteger(d) || d < 0) {
      fail(`reshape: invalid dim ${d} in ${fmt(shape)}`);
    } else {
      known *= d;
    }
  }
  if (inferAt >= 0) {
    if (known === 0 || size % known !== 0) fail(`reshape: cannot infer -1 reshaping ${fmt(x.shape)} to ${fmt(shape)}`);
    out[inferAt] = size / known;
  }
  if (sizeOf(out) !== size) fail(`reshape: cannot reshape ${fmt(x.shape)} (size ${size}) to ${fmt(shape)}`);
  return { shape: out, data: Float64Array.from(x.data) };
}

/** Reorders axes: output axis k is input axis `axes[k]` (negative allowed). */
export function permute(x: RefArray, axes: readonly number[]): RefArray {
  checkArray(x, "permute");
  const rank = x.shape.length;
  if (axes.length !== rank) fail(`permute: ${fmt(axes)} is not a permutation of rank ${rank}`);
  const perm = axes.map((a) => normAxis(a, rank, "permute"));
  if (new Set(perm).size !== rank) fail(`permute: ${fmt(axes)} repeats an axis`);
  const out = empty(perm.map((a) => x.shape[a]!));
  const src = new Array<number>(rank).fill(0);
  for (let f = 0; f < out.data.length; f++) {
    const idx = unravel(f, out.shape);
    for (let k = 0; k < rank; k++) src[perm[k]!] = idx[k]!;
    out.data[f] = x.data[ravel(src, x.shape)]!;
  }
  return out;
}

/** Reverses all axes (NumPy `.T`). */
export function transpose(x: RefArray): RefArray {
  const axes: number[] = [];
  for (let k = x.shape.length - 1; k >= 0; k--) axes.push(k);
  return permute(x, axes);
}

/** One Python-style slice for an axis; step must be >= 1. */
export interface SliceSpec {
  start?: number;
  end?: number;
  step?: number;
}

/** Python slicing of the leading axes (negative indices count from the end, out-of-range bounds clamp). */
export function slice(x: RefArray, specs: readonly SliceSpec[]): RefArray {
  checkArray(x, "slice");
  const rank = x.shape.length;
  if (specs.length > rank) fail(`slice: ${specs.length} specs for rank ${rank}`);
  const starts: number[] = [];
  const steps: number[] = [];
  const outShape: number[] = [];
  for (let k = 0; k < rank; k++) {
    const len = x.shape[k]!;
    const spec = specs[k] ?? {};
    const step = spec.step ?? 1;
    if (!Number.isInteger(step) || step < 1) fail(`slice: step must be an integer >= 1, got ${step} on axis ${k}`);
    const clampBound = (v: number | undefined, dflt: number, name: string): number => {
      if (v === undefined) return dflt;
      if (!Number.isInteger(v)) fail(`slice: ${name} must be an integer, got ${v} on axis ${k}`);
      let b = v < 0 ? v + len : v;
      if (b < 0) b = 0;
      if (b > len) b = len;
      return b;
    };
    const start = clampBound(spec.start, 0, "start");
    const end = clampBound(spec.end, len, "end");
    starts.push(start);
    steps.push(step);
    outShape.push(end > start ? Math.floor((end - start - 1) / step) + 1 : 0);
  }
  const out = empty(outShape);
  for (let f = 0; f < out.data.length; f++) {
    const idx = unravel(f, outShape);
    const src = idx.map((t, k) => starts[k]! + t * steps[k]!);
    out.data[f] = x.data[ravel(src, x.shape)]!;
  }
  return out;
}

/** Broadcasts `x` to `shape` (NumPy broadcast_to; a -1 keeps the existing dim). */
export function expand(x: RefArray, shape: readonly number[]): RefArray {
  checkArray(x, "expand");
  const rank = shape.length;
  const offset = rank - x.shape.length;
  if (offset < 0) fail(`expand: cannot expand ${fmt(x.shape)} to lower rank ${fmt(shape)}`);
  const target = [...shape];
  for (let k = 0; k < rank; k++) {
    const xd = k >= offset ? x.shape[k - offset]! : 1;
    if (target[k] === -1 && k >= offset) target[k] = xd;
    const td = target[k]!;
    if (!Number.isInteger(td) || td < 0) fail(`expand: invalid target ${fmt(shape)}`);
    if (xd !== td && xd !== 1) fail(`expand: cannot broadcast ${fmt(x.shape)} to ${fmt(shape)} (axis ${k})`);
  }
  const out = empty(target);
  for (let f = 0; f < out.data.length; f++) {
    out.data[f] = x.data[broadcastFlat(unravel(f, target), x.shape)]!;
  }
  return out;
}

/** Pads every axis with `pads[k] = [before, after]` cells of `value` (negative amounts crop). */
export function pad(x: RefArray, pads: ReadonlyArray<readonly [number, number]>, value = 0): RefArray {
  checkArray(x, "pad");
  const rank = x.shape.length;
  if (pads.length !== rank) fail(`pad: ${pads.length} pad pairs for rank ${rank} (shape ${fmt(x.shape)})`);
  const outShape = x.shape.map((d, k) => {
    const [before, after] = pads[k]!;
    if (!Number.isInteger(before) || !Number.isInteger(after)) fail(`pad: non-integer pads on axis ${k}`);
    const n = d + before + after;
    if (n < 0) fail(`pad: axis ${k} of size ${d} cannot be cropped by [${before}, ${after}]`);
    return n;
  });
  const out = empty(outShape);
  for (let f = 0; f < out.data.length; f++) {
    const idx = unravel(f, outShape);
    let inside = true;
    const src = idx.map((t, k) => {
      const s = t - pads[k]![0];
      if (s < 0 || s >= x.shape[k]!) inside = false;
      return s;
    });
    out.data[f] = inside ? x.data[ravel(src, x.shape)]! : value;
  }
  return out;
}

/** Joins arrays of equal rank along an existing `axis` (other dims must match). */
export function concat(xs: readonly RefArray[], axis = 0): RefArray {
  if (xs.length === 0) fail("concat: no arrays");
  const first = xs[0]!;
  const rank = first.shape.length;
  const a = normAxis(axis, rank, "concat");
  for (const x of xs) {
    checkArray(x, "concat");
    if (x.shape.length !== rank || x.shape.some((d, k) => k !== a && d !== first.shape[k])) {
      fail(`concat: shape ${fmt(x.shape)} does not match ${fmt(first.shape)} off axis ${axis}`);
    }
  }
  const outShape = [...first.shape];
  outShape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
  const out = empty(outShape);
  for (let f = 0; f < out.data.length; f++) {
    const idx = unravel(f, outShape);
    let t = idx[a]!;
    let which = 0;
    while (t >= xs[which]!.shape[a]!) {
      t -= xs[which]!.shape[a]!;
      which++;
    }
    idx[a] = t;
    out.data[f] = xs[which]!.data[ravel(idx, xs[which]!.shape)]!;
  }
  return out;
}

/** Joins arrays of identical shape along a new `axis` (range [-(rank+1), rank]). */
export function stack(xs: readonly RefArray[], axis = 0): RefArray {
  if (xs.length === 0) fail("stack: no arrays");
  const first = xs[0]!;
  const rank = first.shape.length;
  const a = normAxis(axis, rank + 1, "stack");
  for (const x of xs) {
    checkArray(x, "stack");
    if (x.shape.length !== rank || x.shape.some((d, k) => d !== first.shape[k])) {
      fail(`stack: shape ${fmt(x.shape)} differs from ${fmt(first.shape)}`);
    }
  }
  const outShape = [...first.shape];
  outShape.splice(a, 0, xs.length);
  const out = empty(outShape);
  for (let f = 0; f < out.data.length; f++) {
    const idx = unravel(f, outShape);
    const which = idx[a]!;
    idx.splice(a, 1);
    out.data[f] = xs[which]!.data[ravel(idx, first.shape)]!;
  }
  return out;
}

function integerList(indices: readonly number[] | RefArray, what: string): number[] {
  const values: ArrayLike<number> = "shape" in indices ? indices.data : indices;
  const list: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!isIntegerValue(v)) fail(`${what}: index ${v} at position ${i} is not an integer`);
    list.push(v);
  }
  return list;
}

/** Index-select: dim `axis` of the output is `x[..., indices[t], ...]` for each t (negative index → error). */
export function gather(x: RefArray, indices: readonly number[] | RefArray, axis = 0): RefArray {
  checkArray(x, "gather");
  if ("shape" in indices && indices.shape.length !== 1) fail(`gather: indices must be 1-D, got ${fmt(indices.shape)}`);
  const a = normAxis(axis, x.shape.length, "gather");
  const list = integerList(indices, "gather");
  for (const v of list) {
    if (v < 0 || v >= x.shape[a]!) fail(`gather: index ${v} out of range [0, ${x.shape[a]}) on axis ${axis}`);
  }
  const outShape = [...x.shape];
  outShape[a] = list.length;
  const out = empty(outShape);
  for (let f = 0; f < out.data.length; f++) {
    const idx = unravel(f, outShape);
    idx[a] = list[idx[a]!]!;
    out.data[f] = x.data[ravel(idx, x.shape)]!;
  }
  return out;
}

/** One-hot encoding: shape `[...indices.shape, depth]`, 1 at each index and 0 elsewhere (index out of [0, depth) → error). */
export function oneHot(indices: readonly number[] | RefArray, depth: number): RefArray {
  if (!Number.isInteger(depth) || depth < 0) fail(`oneHot: depth must be a non-negative integer, got ${depth}`);
  if ("shape" in indices) checkArray(indices, "oneHot");
  const inShape = "shape" in indices ? indices.shape : [indices.length];
  const list = integerList(indices, "oneHot");
  const out = empty([...inShape, depth]);
  for (let p = 0; p < list.length; p++) {
    const v = list[p]!;
    if (v < 0 || v >= depth) fail(`oneHot: index ${v} at position ${p} out of range [0, ${depth})`);
    out.data[p * depth + v] = 1;
  }
  return out;
}

/** Softmax along `axis` (default -1), computed stably by subtracting the line maximum. */
export function softmax(x: RefArray, axis = -1): RefArray {
  checkArray(x, "softmax");
  const a = normAxis(axis, x.shape.length, "softmax");
  const out = empty(x.shape);
  for (const line of linesAlong(x.shape, a)) {
    let m = -Infinity;
    for (const at of line) m = Math.max(m, x.data[at]!);
    let s = 0;
    for (const at of line) s += Math.exp(x.data[at]! - m);
    for (const at of line) out.data[at] = Math.exp(x.data[at]! - m) / s;
  }
  return out;
}

/** Log-softmax along `axis` (default -1), computed stably as (x - max) - log(sum(exp(x - max))). */
export function logSoftmax(x: RefArray, axis = -1): RefArray {
  checkArray(x, "logSoftmax");
  const a = normAxis(axis, x.shape.length, "logSoftmax");
  const out = empty(x.shape);
  for (const line of linesAlong(x.shape, a)) {
    let m = -Infinity;
    for (const at of line) m = Math.max(m, x.data[at]!);
    let s = 0;
    for (const at of line) s += Math.exp(x.data[at]! - m);
    const logS = Math.log(s);
    for (const at of line) out.data[at] = x.data[at]! - m - logS;
  }
  return out;
}

/** Target dtypes of `cast`. */
export type CastDtype = "float32" | "int32" | "bool";

/** Value conversion: float32 rounds with Math.fround, int32 truncates and wraps like `x | 0`, bool is `x != 0`. */
export function cast(x: RefArray, dtype: CastDtype): RefArray {
  checkArray(x, "cast");
  let f: (v: number) => number;
  if (dtype === "float32") f = (v) => Math.fround(v);
  else if (dtype === "int32") f = (v) => v | 0;
  else if (dtype === "bool") f = (v) => (v !== 0 ? 1 : 0);
  else fail(`cast: unknown dtype "${String(dtype)}"`);
  const out = empty(x.shape);
  for (let i = 0; i < x.data.length; i++) out.data[i] = f(x.data[i]!);
  return out;
}

/** Mean over rows of -logSoftmax(logits)[n, labels[n]]; logits [N,C], integer labels [N]; returns shape []. */
export function crossEntropy(logits: RefArray, labels: readonly number[] | RefArray): RefArray {
  checkRank(logits, 2, "crossEntropy logits");
  const [N, C] = logits.shape as [number, number];
  if ("shape" in labels && (labels.shape.length !== 1 || labels.shape[0] !== N)) {
    fail(`crossEntropy: labels shape ${fmt(labels.shape)} does not match logits ${fmt(logits.shape)}`);
  }
  const list = integerList(labels, "crossEntropy");
  if (list.length !== N) fail(`crossEntropy: ${list.length} labels for ${N} rows`);
  const logp = logSoftmax(logits, 1);
  let total = 0;
  for (let n = 0; n < N; n++) {
    const label = list[n]!;
    if (label < 0 || label >= C) fail(`crossEntropy: label ${label} at row ${n} out of range [0, ${C})`);
    total += -logp.data[n * C + label]!;
  }
  return { shape: [], data: Float64Array.of(total / N) };
}

// ---------------------------------------------------------------------------------------------
// Gradient checking and comparison
// ---------------------------------------------------------------------------------------------

/** Central-difference gradient of L = sum(f(inputs) * dy) with respect to each input (float64). */
export function numericGradient(f: (inputs: RefArray[]) => RefArray, inputs: readonly RefArray[], dy: RefArray, eps = 1e-6): RefArray[] {
  checkArray(dy, "numericGradient dy");
  const work = inputs.map((x) => ({ shape: [...x.shape], data: Float64Array.from(x.data) }));
  const loss = (): number => {
    const y = f(work);
    if (y.shape.length !== dy.shape.length || y.shape.some((d, k) => d !== dy.shape[k])) {
      fail(`numericGradient: f returned shape ${fmt(y.shape)} but dy has shape ${fmt(dy.shape)}`);
    }
    let s = 0;
    for (let i = 0; i < y.data.length; i++) s += y.data[i]! * dy.data[i]!;
    return s;
  };
  return work.map((x) => {
    const grad = empty(x.shape);
    for (let i = 0; i < x.data.length; i++) {
      const saved = x.data[i]!;
      x.data[i] = saved + eps;
      const plus = loss();
      x.data[i] = saved - eps;
      const minus = loss();
      x.data[i] = saved;
      grad.data[i] = (plus - minus) / (2 * eps);
    }
    return grad;
  });
}

function sameSpecial(a: number, e: number): boolean | undefined {
  if (Number.isNaN(a) || Number.isNaN(e)) return Number.isNaN(a) && Number.isNaN(e);
  if (!Number.isFinite(a) || !Number.isFinite(e)) return a === e;
  return undefined;
}

/** Largest |a[i] - b[i]|; NaN vs NaN and equal infinities count 0, any other NaN/infinity mismatch counts Infinity. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) fail(`maxAbsDiff: lengths differ (${a.length} vs ${b.length})`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const special = sameSpecial(a[i]!, b[i]!);
    const d = special === undefined ? Math.abs(a[i]! - b[i]!) : special ? 0 : Infinity;
    if (d > worst) worst = d;
  }
  return worst;
}

/** Tolerances for `assertClose`: passes when |actual - expected| <= atol + rtol * |expected| (defaults 1e-5 each). */
export interface CloseTolerance {
  atol?: number;
  rtol?: number;
}

/** Throws a descriptive Error unless `actual` is elementwise close to `expected` (NaN equals NaN, infinities exact). */
export function assertClose(
  actual: ArrayLike<number> | RefArray,
  expected: RefArray | ArrayLike<number>,
  tolerance: CloseTolerance = {},
  what = "value",
): void {
  const atol = tolerance.atol ?? 1e-5;
  const rtol = tolerance.rtol ?? 1e-5;
  const aShape = "shape" in actual && "data" in actual ? actual.shape : undefined;
  const eShape = "shape" in expected && "data" in expected ? expected.shape : undefined;
  const a: ArrayLike<number> = "shape" in actual && "data" in actual ? actual.data : actual;
  const e: ArrayLike<number> = "shape" in expected && "data" in expected ? expected.data : expected;
  const shapeNote = `actual shape ${aShape ? fmt(aShape) : `(flat, ${a.length})`}, expected shape ${eShape ? fmt(eShape) : `(flat, ${e.length})`}`;
  if (a.length !== e.length) {
    throw new Error(`${what}: length mismatch: actual has ${a.length} elements, expected ${e.length}; ${shapeNote}`);
  }
  if (aShape && eShape && (aShape.length !== eShape.length || aShape.some((d, k) => d !== eShape[k]))) {
    throw new Error(`${what}: shape mismatch: ${shapeNote}`);
  }
  let firstBad = -1;
  let badCount = 0;
  for (let i = 0; i < e.length; i++) {
    const av = a[i]!;
    const ev = e[i]!;
    const special = sameSpecial(av, ev);
    const ok = special === undefined ? Math.abs(av - ev) <= atol + rtol * Math.abs(ev) : special;
    if (!ok) {
      if (firstBad < 0) firstBad = i;
      badCount++;
    }
  }
  if (firstBad < 0) return;
  const av = a[firstBad]!;
  const ev = e[firstBad]!;
  const where = eShape && eShape.length > 0 ? ` (index ${fmt(unravel(firstBad, eShape))})` : "";
  throw new Error(
    `${what}: not close at flat index ${firstBad}${where}: actual ${av}, expected ${ev}, ` +
      `|diff| ${Math.abs(av - ev)} > atol ${atol} + rtol ${rtol} * |expected|; ` +
      `${badCount} of ${e.length} elements fail, max abs diff ${maxAbsDiff(a, e)}; ${shapeNote}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Namespace
// ---------------------------------------------------------------------------------------------

/** Every reference op and helper in one object, for callers that prefer `reference.conv2d(...)`. */
export const reference = {
  ref,
  unary,
  binary,
  broadcastShape,
  where,
  reduce,
  argmax,
  argmin,
  matmul,
  conv2d,
  conv2dBackwardInput,
  conv2dBackwardWeight,
  maxPool2d,
  maxPool2dBackward,
  avgPool2d,
  avgPool2dBackward,
  reshape,
  permute,
  transpose,
  slice,
  expand,
  pad,
  concat,
  stack,
  gather,
  oneHot,
  softmax,
  logSoftmax,
  cast,
  crossEntropy,
  numericGradient,
  maxAbsDiff,
  assertClose,
} as const;
