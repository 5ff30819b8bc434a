import type { ReduceOp } from "../backend/contract.js";
import { TesseraError, fmtShape } from "../errors.js";
import { contiguousStrides, normalizeAxes, normalizeAxis, sizeOf } from "../shape.js";
import { type Tensor, emptyTensor, viewTensor } from "../tensor.js";
import { asTensor } from "./convert.js";
import { castIfNeeded, contiguousCopy, div } from "./elementwise.js";
import { recordOp } from "./record.js";

const IDENTITY: Partial<Record<ReduceOp, number>> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

/**
 * Reduces `axes` of `t`: moves them last, makes the data contiguous if it is not already, and
 * asks the backend to reduce the last axis of an [outer, inner] matrix.
 *
 * When some reduced axes are not trailing but the trailing ones are reduced too (a bias
 * gradient: sum over N, H, W of [N, C, H, W]), the trailing run is reduced first, in place,
 * and only the much smaller rest is moved: moving the whole tensor would copy all of it.
 */
function reduceRaw(op: ReduceOp, t: Tensor, axes: number[], keepdims: boolean): Tensor {
  const staged = stagedReduction(op, t, axes, keepdims);
  if (staged) return staged;
  return reduceMoved(op, t, axes, keepdims);
}

/** The two-stage reduction described above, or undefined where it does not apply. */
function stagedReduction(op: ReduceOp, t: Tensor, axes: number[], keepdims: boolean): Tensor | undefined {
  if (op === "argmax" || op === "argmin" || !t.isContiguous || t.size === 0) return undefined;
  const r = t.rank;
  let first = r;
  while (first > 0 && axes.includes(first - 1)) first--;
  const rest = axes.filter((a) => a < first);
  // nothing trailing to do in place, or nothing left to move afterwards
  if (first === r || rest.length === 0) return undefined;
  const trailing = Array.from({ length: r - first }, (_, i) => first + i);
  const partial = reduceMoved(op, t, trailing, false);
  const out = reduceMoved(op, partial, rest, false);
  partial.dispose();
  if (!keepdims) return out;
  const shape = t.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const kept = viewTensor(out, shape, contiguousStrides(shape), 0);
  out.dispose();
  return kept;
}

function reduceMoved(op: ReduceOp, t: Tensor, axes: number[], keepdims: boolean): Tensor {
  const kept = t.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const order = [...kept, ...axes];
  const outer = sizeOf(kept.map((i) => t.shape[i]!));
  const inner = sizeOf(axes.map((i) => t.shape[i]!));
  const outShape = keepdims ? t.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept.map((i) => t.shape[i]!);
  const isArg = op === "argmax" || op === "argmin";
  const src = castIfNeeded(t, t.dtype === "bool" ? "int32" : t.dtype);
  const out = emptyTensor(t.backend, outShape, isArg ? "int32" : src.dtype);
  if (outer > 0) {
    if (inner === 0) {
      t.backend.fill(out.storage.buffer, IDENTITY[op]!);
    } else {
      const moved = viewTensor(
        src,
        order.map((i) => src.shape[i]!),
        order.map((i) => src.strides[i]!),
        src.offset,
      );
      const c = moved.isContiguous ? moved : contiguousCopy(moved);
      t.backend.reduce(op, c.storage.buffer, outer, inner, out.storage.buffer);
      if (c !== moved) c.dispose();
      moved.dispose();
    }
  }
  if (src !== t) src.dispose();
  return out;
}

/**
 * Max, min and their arg versions have no identity: like NumPy and PyTorch, they refuse an empty
 * reduced axis, and accept empty kept axes (the result is then empty too).
 */
function checkNotEmpty(op: string, t: Tensor, axes: readonly number[]): void {
  const empty = axes.filter((a) => t.shape[a] === 0);
  if (empty.length > 0) {
    throw new TesseraError(
      op,
      `cannot take ${op} over an empty axis (axis ${empty.join(", ")} of shape ${fmtShape(t.shape)} has size 0; expected reduced axes of size 1 or more)`,
    );
  }
}

function reduction(op: "sum" | "prod" | "max" | "min", x: Tensor, axes: number | number[] | undefined, keepdims: boolean): Tensor {
  const t = asTensor(x, op);
  const ax = normalizeAxes(op, axes, t.rank);
  if (op === "max" || op === "min") checkNotEmpty(op, t, ax);
  return recordOp(op, [t], { axes: ax, keepdims }, () => reduceRaw(op, t, ax, keepdims));
}

/**
 * Sum over `axes` (all by default; negative axes count from the end). The reduced axes are
 * dropped, or kept with size 1 when `keepdims`. bool sums to int32.
 */
export function sum(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  return reduction("sum", x, axes, keepdims);
}
/** Product over `axes` (all by default), dropped or kept with size 1 (`keepdims`). bool to int32. */
export function prod(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  return reduction("prod", x, axes, keepdims);
}
/** Maximum over `axes` (all by default), dropped or kept with size 1 (`keepdims`); NaN wins. */
export function max(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  return reduction("max", x, axes, keepdims);
}
/** Minimum over `axes` (all by default), dropped or kept with size 1 (`keepdims`); NaN wins. */
export function min(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  return reduction("min", x, axes, keepdims);
}

/** Arithmetic mean over `axes` (all by default); float32 result. */
export function mean(x: Tensor, axes?: number | number[], keepdims = false): Tensor {
  const t = asTensor(x, "mean");
  const ax = normalizeAxes("mean", axes, t.rank);
  const count = sizeOf(ax.map((i) => t.shape[i]!));
  const s = sum(t, ax, keepdims);
  const m = div(s, count);
  s.dispose();
  return m;
}

function argReduction(op: "argmax" | "argmin", x: Tensor, axis: number | undefined, keepdims: boolean): Tensor {
  const t = asTensor(x, op);
  if (axis === undefined) {
    if (t.size === 0) throw new TesseraError(op, `cannot take ${op} of an empty tensor (shape ${fmtShape(t.shape)}; expected at least one element)`);
    return recordOp(op, [t], { axis: null, keepdims }, () => {
      const flat = t.isContiguous ? viewTensor(t, [t.size], [1], 0) : contiguousCopy(t);
      const flat1 = flat.shape.length === 1 ? flat : viewTensor(flat, [t.size], [1], 0);
      const r = reduceRaw(op, flat1, [0], false);
      if (flat1 !== flat) flat1.dispose();
      flat.dispose();
      if (!keepdims) return r;
      const v = viewTensor(
        r,
        t.shape.map(() => 1),
        t.shape.map(() => 1),
        0,
      );
      r.dispose();
      return v;
    });
  }
  const a = normalizeAxis(op, axis, t.rank);
  checkNotEmpty(op, t, [a]);
  return recordOp(op, [t], { axis: a, keepdims }, () => reduceRaw(op, t, [a], keepdims));
}

/**
 * Index of the first maximum along `axis` (of the flattened tensor when omitted), int32; the
 * axis is dropped, or kept with size 1 when `keepdims`. The first NaN wins, as in NumPy.
 */
export function argmax(x: Tensor, axis?: number, keepdims = false): Tensor {
  return argReduction("argmax", x, axis, keepdims);
}
/**
 * Index of the first minimum along `axis` (of the flattened tensor when omitted), int32; the
 * axis is dropped, or kept with size 1 when `keepdims`. The first NaN wins, as in NumPy.
 */
export function argmin(x: Tensor, axis?: number, keepdims = false): Tensor {
  return argReduction("argmin", x, axis, keepdims);
}
