import type { BinaryOp, DType, StridedView, TypedArray, UnaryOp } from "@tessera/tensor";
import { dataOf } from "../buffer.js";
import { forEachRow } from "../strided.js";

type Unary = (x: number) => number;
type Binary = (a: number, b: number) => number;

const UNARY: Record<UnaryOp, Unary> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 ? x : x === 0 || x < 0 ? 0 : x),
  floor: Math.floor,
  ceil: Math.ceil,
  sin: Math.sin,
  cos: Math.cos,
  logicalNot: (x) => (x === 0 ? 1 : 0),
};

const BINARY: Record<BinaryOp, Binary> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: (a, b) => (a > b || Number.isNaN(a) ? a : b),
  minimum: (a, b) => (a < b || Number.isNaN(a) ? a : b),
  equal: (a, b) => (a === b ? 1 : 0),
  notEqual: (a, b) => (a !== b ? 1 : 0),
  less: (a, b) => (a < b ? 1 : 0),
  lessEqual: (a, b) => (a <= b ? 1 : 0),
  greater: (a, b) => (a > b ? 1 : 0),
  greaterEqual: (a, b) => (a >= b ? 1 : 0),
  logicalAnd: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  logicalOr: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
};

/** int32 multiplication must wrap like C, which a double product does not do past 2^53. */
const INT_BINARY: Partial<Record<BinaryOp, Binary>> = { mul: Math.imul };

/** A row of a unary op: out[pos + i] = op(src[j + i*s]). */
type UnaryRow = (n: number, src: TypedArray, j: number, s: number, out: TypedArray, pos: number) => void;
/** A row of a binary op: out[pos + i] = a[ja + i*sa] op b[jb + i*sb]. */
type BinaryRow = (n: number, a: TypedArray, ja: number, sa: number, b: TypedArray, jb: number, sb: number, out: TypedArray, pos: number) => void;

/**
 * Row loops of the hottest float32 ops (a training step runs them over every activation and
 * parameter) with the operation written in the loop rather than called per element: the same
 * arithmetic as UNARY/BINARY, so the same results, several times faster.
 */
const F32_UNARY: Partial<Record<UnaryOp, UnaryRow>> = {
  neg: (n, x, j, s, out, pos) => {
    for (let i = 0; i < n; i++, j += s) out[pos + i] = -x[j]!;
  },
  exp: (n, x, j, s, out, pos) => {
    for (let i = 0; i < n; i++, j += s) out[pos + i] = Math.exp(x[j]!);
  },
  log: (n, x, j, s, out, pos) => {
    for (let i = 0; i < n; i++, j += s) out[pos + i] = Math.log(x[j]!);
  },
  tanh: (n, x, j, s, out, pos) => {
    for (let i = 0; i < n; i++, j += s) out[pos + i] = Math.tanh(x[j]!);
  },
};
const F32_BINARY: Partial<Record<BinaryOp, BinaryRow>> = {
  add: (n, a, ja, sa, b, jb, sb, out, pos) => {
    for (let i = 0; i < n; i++, ja += sa, jb += sb) out[pos + i] = a[ja]! + b[jb]!;
  },
  sub: (n, a, ja, sa, b, jb, sb, out, pos) => {
    for (let i = 0; i < n; i++, ja += sa, jb += sb) out[pos + i] = a[ja]! - b[jb]!;
  },
  mul: (n, a, ja, sa, b, jb, sb, out, pos) => {
    for (let i = 0; i < n; i++, ja += sa, jb += sb) out[pos + i] = a[ja]! * b[jb]!;
  },
  div: (n, a, ja, sa, b, jb, sb, out, pos) => {
    for (let i = 0; i < n; i++, ja += sa, jb += sb) out[pos + i] = a[ja]! / b[jb]!;
  },
};

export function unary(op: UnaryOp, x: StridedView, out: TypedArray): void {
  const src = dataOf(x.buffer);
  const fast = x.buffer.dtype === "float32" ? F32_UNARY[op] : undefined;
  let pos = 0;
  if (fast) {
    forEachRow(x.shape, [x.strides], [x.offset], (n, [o], [s]) => {
      fast(n, src, o!, s!, out, pos);
      pos += n;
    });
    return;
  }
  const f = UNARY[op];
  forEachRow(x.shape, [x.strides], [x.offset], (n, [o], [s]) => {
    for (let i = 0, j = o!; i < n; i++, j += s!) out[pos++] = f(src[j]!);
  });
}

export function binary(op: BinaryOp, a: StridedView, b: StridedView, out: TypedArray, dtype: DType): void {
  const da = dataOf(a.buffer);
  const db = dataOf(b.buffer);
  const fast = dtype === "float32" ? F32_BINARY[op] : undefined;
  let pos = 0;
  if (fast) {
    forEachRow(a.shape, [a.strides, b.strides], [a.offset, b.offset], (n, [oa, ob], [sa, sb]) => {
      fast(n, da, oa!, sa!, db, ob!, sb!, out, pos);
      pos += n;
    });
    return;
  }
  const f = (dtype === "int32" && INT_BINARY[op]) || BINARY[op];
  forEachRow(a.shape, [a.strides, b.strides], [a.offset, b.offset], (n, [oa, ob], [sa, sb]) => {
    for (let i = 0, ja = oa!, jb = ob!; i < n; i++, ja += sa!, jb += sb!) out[pos++] = f(da[ja]!, db[jb]!);
  });
}

export function where(cond: StridedView, a: StridedView, b: StridedView, out: TypedArray): void {
  const dc = dataOf(cond.buffer);
  const da = dataOf(a.buffer);
  const db = dataOf(b.buffer);
  let pos = 0;
  forEachRow(a.shape, [cond.strides, a.strides, b.strides], [cond.offset, a.offset, b.offset], (n, [oc, oa, ob], [sc, sa, sb]) => {
    for (let i = 0, jc = oc!, ja = oa!, jb = ob!; i < n; i++, jc += sc!, ja += sa!, jb += sb!) out[pos++] = dc[jc] ? da[ja]! : db[jb]!;
  });
}

/** Strided copy with dtype conversion: float -> int truncates toward zero, anything -> bool is != 0. */
export function copy(src: StridedView, dst: StridedView): void {
  const s = dataOf(src.buffer);
  const d = dataOf(dst.buffer);
  const toBool = dst.buffer.dtype === "bool" && src.buffer.dtype !== "bool";
  const toInt = dst.buffer.dtype === "int32" && src.buffer.dtype === "float32";
  forEachRow(src.shape, [src.strides, dst.strides], [src.offset, dst.offset], (n, [os, od], [ss, sd]) => {
    if (toBool) for (let i = 0, js = os!, jd = od!; i < n; i++, js += ss!, jd += sd!) d[jd] = s[js] !== 0 ? 1 : 0;
    else if (toInt) for (let i = 0, js = os!, jd = od!; i < n; i++, js += ss!, jd += sd!) d[jd] = Math.trunc(s[js]!);
    else for (let i = 0, js = os!, jd = od!; i < n; i++, js += ss!, jd += sd!) d[jd] = s[js]!;
  });
}
