import { TesseraError, fmtShape } from "./errors.js";

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** True when strides describe the row-major layout of `shape` (size-1 dims may have any stride). */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/** NumPy broadcasting of two shapes; throws naming `op` when they do not broadcast. */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new TesseraError(op, `shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dimension ${i} is ${da} vs ${db}; each pair must be equal or 1)`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Resolves a possibly negative axis against `rank`; throws naming `op` when out of range. A
 * scalar has no axes (NumPy's rule): ops that insert an axis pass `rank + 1`.
 */
export function normalizeAxis(op: string, axis: number, rank: number): number {
  if (rank === 0) {
    throw new TesseraError(op, `got axis ${axis} for a scalar (shape []), which has no axes (expected a tensor of at least one dimension)`);
  }
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new TesseraError(op, `axis ${axis} is out of range for a tensor of rank ${rank} (expected an integer in [${-rank}, ${rank - 1}])`);
  }
  return axis < 0 ? axis + rank : axis;
}

/** Resolves a list of axes (or all axes when undefined), sorted and without duplicates. */
export function normalizeAxes(op: string, axes: number | readonly number[] | undefined, rank: number): number[] {
  if (axes === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axes === "number" ? [axes] : axes;
  const out = list.map((a) => normalizeAxis(op, a, rank));
  if (new Set(out).size !== out.length) {
    throw new TesseraError(op, `axes ${JSON.stringify(list)} repeat an axis`);
  }
  return out.sort((x, y) => x - y);
}

/** Checks that a shape is a list of non-negative integers. */
export function assertShape(op: string, shape: readonly number[]): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TesseraError(op, `shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
  }
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
