import { type BinaryOp, COMPARISON_OPS, type StridedView, type UnaryOp } from "../backend/contract.js";
import { type DType, promoteTypes } from "../dtype.js";
import { TesseraError } from "../errors.js";
import { broadcastShapes } from "../shape.js";
import { type Tensor, emptyTensor, viewTensor } from "../tensor.js";
import { type TensorLike, asTensor } from "./convert.js";
import { recordOp } from "./record.js";

/** Unary ops computed in floating point: integer inputs are cast to float32 first. */
const FLOAT_UNARY = new Set<UnaryOp>(["exp", "log", "sqrt", "tanh", "sigmoid", "sin", "cos"]);

/** A view of `t` broadcast to `shape` (stride 0 along broadcast dims). */
export function broadcastView(t: Tensor, shape: readonly number[]): StridedView {
  const v = t.view();
  const rank = shape.length;
  const strides = new Array<number>(rank).fill(0);
  for (let i = 0; i < t.rank; i++) {
    const j = rank - t.rank + i;
    strides[j] = t.shape[i] === 1 && shape[j] !== 1 ? 0 : t.strides[i]!;
  }
  return { buffer: v.buffer, shape, strides, offset: v.offset };
}

function checkSameBackend(op: string, tensors: readonly Tensor[]): void {
  const b = tensors[0]!.backend;
  for (const t of tensors) {
    if (t.backend !== b) {
      throw new TesseraError(op, `inputs live on different backends ('${b.name}' and '${t.backend.name}'); move one with \`await t.to(name)\``);
    }
  }
}

/** Casts (copying) unless `t` already has `dtype`; the caller disposes the result when it differs. */
export function castIfNeeded(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : castRaw(t, dtype);
}

function castRaw(t: Tensor, dtype: DType): Tensor {
  const out = emptyTensor(t.backend, t.shape, dtype);
  if (out.size > 0) out.backend.copy(t.view(), out.view());
  return out;
}

/** A contiguous copy of `t` (always a new buffer). */
export function contiguousCopy(t: Tensor): Tensor {
  t.assertLive("contiguous");
  return castRaw(t, t.dtype);
}

function unary(op: UnaryOp, x: TensorLike, name: string = op): Tensor {
  const t = asTensor(x, name);
  try {
    return recordOp(name, [t], {}, () => {
      if (op === "logicalNot") {
        const b = castIfNeeded(t, "bool");
        const out = emptyTensor(t.backend, t.shape, "bool");
        if (out.size > 0) t.backend.unary(op, b.view(), out.storage.buffer);
        if (b !== t) b.dispose();
        return out;
      }
      if (t.dtype === "bool") throw new TesseraError(name, `expected a float32 or int32 tensor, got bool (cast it first)`);
      const src = FLOAT_UNARY.has(op) ? castIfNeeded(t, "float32") : t;
      const out = emptyTensor(t.backend, t.shape, src.dtype);
      if (out.size > 0) t.backend.unary(op, src.view(), out.storage.buffer);
      if (src !== t) src.dispose();
      return out;
    });
  } finally {
    if (t !== x) t.dispose();
  }
}

function binary(op: BinaryOp, a: TensorLike, b: TensorLike, name: string = op): Tensor {
  if (typeof a === "number" && typeof b === "number") {
    throw new TesseraError(name, "at least one operand must be a Tensor");
  }
  const ta = asTensor(a, name, b instanceof Object ? (b as Tensor) : undefined);
  const tb = asTensor(b, name, ta);
  try {
    checkSameBackend(name, [ta, tb]);
    return recordOp(name, [ta, tb], {}, () => {
      const shape = broadcastShapes(name, ta.shape, tb.shape);
      const logical = op === "logicalAnd" || op === "logicalOr";
      let dtype = logical ? "bool" : promoteTypes(ta.dtype, tb.dtype);
      if (op === "div" || op === "pow") dtype = "float32";
      if (dtype === "bool" && !COMPARISON_OPS.has(op) && op !== "maximum" && op !== "minimum") {
        throw new TesseraError(name, `arithmetic on bool tensors is not defined (cast to int32 or float32 first)`);
      }
      const ca = castIfNeeded(ta, dtype);
      const cb = castIfNeeded(tb, dtype);
      const outDtype: DType = COMPARISON_OPS.has(op) ? "bool" : dtype;
      const out = emptyTensor(ta.backend, shape, outDtype);
      if (out.size > 0) ta.backend.binary(op, broadcastView(ca, shape), broadcastView(cb, shape), out.storage.buffer);
      if (ca !== ta) ca.dispose();
      if (cb !== tb) cb.dispose();
      return out;
    });
  } finally {
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}

/** Elementwise -x. */
export const neg = (x: TensorLike) => unary("neg", x);
/** Elementwise |x|. */
export const abs = (x: TensorLike) => unary("abs", x);
/** Elementwise sign (-1, 0 or 1). */
export const sign = (x: TensorLike) => unary("sign", x);
/** Elementwise e^x. */
export const exp = (x: TensorLike) => unary("exp", x);
/** Elementwise natural logarithm. */
export const log = (x: TensorLike) => unary("log", x);
/** Elementwise square root. */
export const sqrt = (x: TensorLike) => unary("sqrt", x);
/** Elementwise hyperbolic tangent. */
export const tanh = (x: TensorLike) => unary("tanh", x);
/** Elementwise logistic function 1 / (1 + e^-x). */
export const sigmoid = (x: TensorLike) => unary("sigmoid", x);
/** Elementwise max(x, 0). */
export const relu = (x: TensorLike) => unary("relu", x);
/** Elementwise floor. */
export const floor = (x: TensorLike) => unary("floor", x);
/** Elementwise ceiling. */
export const ceil = (x: TensorLike) => unary("ceil", x);
/** Elementwise sine. */
export const sin = (x: TensorLike) => unary("sin", x);
/** Elementwise cosine. */
export const cos = (x: TensorLike) => unary("cos", x);
/** Elementwise logical not (result bool). */
export const logicalNot = (x: TensorLike) => unary("logicalNot", x);

/** a + b with broadcasting. */
export const add = (a: TensorLike, b: TensorLike) => binary("add", a, b);
/** a - b with broadcasting. */
export const sub = (a: TensorLike, b: TensorLike) => binary("sub", a, b);
/** a * b with broadcasting. */
export const mul = (a: TensorLike, b: TensorLike) => binary("mul", a, b);
/** a / b with broadcasting (true division, float32 result). */
export const div = (a: TensorLike, b: TensorLike) => binary("div", a, b);
/** a ** b with broadcasting (float32 result). */
export const pow = (a: TensorLike, b: TensorLike) => binary("pow", a, b);
/** Elementwise maximum with broadcasting. */
export const maximum = (a: TensorLike, b: TensorLike) => binary("maximum", a, b);
/** Elementwise minimum with broadcasting. */
export const minimum = (a: TensorLike, b: TensorLike) => binary("minimum", a, b);
/** a == b (bool). */
export const equal = (a: TensorLike, b: TensorLike) => binary("equal", a, b);
/** a != b (bool). */
export const notEqual = (a: TensorLike, b: TensorLike) => binary("notEqual", a, b);
/** a < b (bool). */
export const less = (a: TensorLike, b: TensorLike) => binary("less", a, b);
/** a <= b (bool). */
export const lessEqual = (a: TensorLike, b: TensorLike) => binary("lessEqual", a, b);
/** a > b (bool). */
export const greater = (a: TensorLike, b: TensorLike) => binary("greater", a, b);
/** a >= b (bool). */
export const greaterEqual = (a: TensorLike, b: TensorLike) => binary("greaterEqual", a, b);
/** Logical and of two tensors read as bool. */
export const logicalAnd = (a: TensorLike, b: TensorLike) => binary("logicalAnd", a, b);
/** Logical or of two tensors read as bool. */
export const logicalOr = (a: TensorLike, b: TensorLike) => binary("logicalOr", a, b);

/** x * x. */
export function square(x: TensorLike): Tensor {
  return binary("mul", x, x, "mul");
}

/** Picks `a` where `cond` is true and `b` elsewhere, broadcasting all three. */
export function where(cond: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const op = "where";
  const tc = asTensor(cond, op);
  const ta = asTensor(a, op, b instanceof Object ? (b as Tensor) : tc);
  const tb = asTensor(b, op, ta);
  try {
    checkSameBackend(op, [tc, ta, tb]);
    return recordOp(op, [tc, ta, tb], {}, () => {
      const shape = broadcastShapes(op, broadcastShapes(op, tc.shape, ta.shape), tb.shape);
      const dtype = promoteTypes(ta.dtype, tb.dtype);
      const cc = castIfNeeded(tc, "bool");
      const ca = castIfNeeded(ta, dtype);
      const cb = castIfNeeded(tb, dtype);
      const out = emptyTensor(ta.backend, shape, dtype);
      if (out.size > 0) ta.backend.where(broadcastView(cc, shape), broadcastView(ca, shape), broadcastView(cb, shape), out.storage.buffer);
      for (const [c, t] of [
        [cc, tc],
        [ca, ta],
        [cb, tb],
      ] as const)
        if (c !== t) c.dispose();
      return out;
    });
  } finally {
    if (tc !== cond) tc.dispose();
    if (ta !== a) ta.dispose();
    if (tb !== b) tb.dispose();
  }
}

/** Converts to another dtype (float -> int truncates toward zero; anything -> bool is != 0). */
export function cast(x: Tensor, dtype: DType): Tensor {
  const t = asTensor(x, "cast");
  if (dtype !== "float32" && dtype !== "int32" && dtype !== "bool") {
    throw new TesseraError("cast", `unknown dtype ${JSON.stringify(dtype)} (expected float32, int32 or bool)`);
  }
  return recordOp("cast", [t], { dtype, from: t.dtype }, () => castRaw(t, dtype));
}

/** A copy with its own buffer. */
export function clone(x: Tensor): Tensor {
  const t = asTensor(x, "clone");
  return recordOp("clone", [t], {}, () => castRaw(t, t.dtype));
}

/** `x` laid out contiguously: a new handle on the same buffer when it already is, else a copy. */
export function contiguous(x: Tensor): Tensor {
  const t = asTensor(x, "contiguous");
  return recordOp("contiguous", [t], {}, () => {
    if (t.isContiguous) return viewTensor(t, t.shape, t.strides, 0);
    return castRaw(t, t.dtype);
  });
}
