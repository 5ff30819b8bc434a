import { TesseraError, fmtShape } from "../errors.js";
import { assertShape, contiguousStrides, isContiguous, normalizeAxes, normalizeAxis, sizeOf } from "../shape.js";
import { type Tensor, viewTensor } from "../tensor.js";
import { asTensor } from "./convert.js";
import { contiguousCopy } from "./elementwise.js";
import { recordOp } from "./record.js";

/** One axis of a `slice`: Python slice semantics (negative indices count from the end, clamped). */
export interface SliceSpec {
  /** First index (default 0; negative counts from the end). */
  start?: number;
  /** Index after the last (default the axis size; negative counts from the end). */
  end?: number;
  /** Stride between selected indices, positive (default 1). */
  step?: number;
}

function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  if (!Array.isArray(shape)) throw new TesseraError(op, `expected a shape array, got ${typeof shape}`);
  const infer = shape.filter((d) => d === -1).length;
  if (infer > 1) throw new TesseraError(op, `only one dimension may be -1, got ${fmtShape(shape)}`);
  const known = shape.filter((d) => d !== -1);
  assertShape(op, known);
  const knownSize = sizeOf(known);
  if (infer === 1) {
    if (knownSize === 0 || x.size % knownSize !== 0) {
      throw new TesseraError(op, `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)}`);
    }
    return shape.map((d) => (d === -1 ? x.size / knownSize : d));
  }
  if (knownSize !== x.size) {
    throw new TesseraError(op, `cannot reshape ${fmtShape(x.shape)} (${x.size} elements) to ${fmtShape(shape)} (${knownSize} elements)`);
  }
  return [...shape];
}

/** The same elements in another shape (one dim may be -1). A view when `x` is contiguous. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const t = asTensor(x, "reshape");
  const target = resolveShape("reshape", t, shape);
  return recordOp("reshape", [t], { shape: target }, () => {
    if (isContiguous(t.shape, t.strides)) return viewTensor(t, target, contiguousStrides(target), t.offset);
    const c = contiguousCopy(t);
    const v = viewTensor(c, target, contiguousStrides(target), 0);
    c.dispose();
    return v;
  });
}

/** Reorders the axes: result axis i is input axis `axes[i]`. Always a view. */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const t = asTensor(x, "permute");
  if (!Array.isArray(axes) || axes.length !== t.rank) {
    throw new TesseraError("permute", `expected ${t.rank} axes for a tensor of shape ${fmtShape(t.shape)}, got ${JSON.stringify(axes)}`);
  }
  const norm = axes.map((a) => normalizeAxis("permute", a, t.rank));
  if (new Set(norm).size !== norm.length) throw new TesseraError("permute", `axes ${JSON.stringify(axes)} are not a permutation`);
  return recordOp("permute", [t], { axes: norm }, () =>
    viewTensor(
      t,
      norm.map((a) => t.shape[a]!),
      norm.map((a) => t.strides[a]!),
      t.offset,
    ),
  );
}

/** Swaps two axes (the last two by default; for 1-D and 0-D tensors, a view of itself). */
export function transpose(x: Tensor, axis0?: number, axis1?: number): Tensor {
  const t = asTensor(x, "transpose");
  if (t.rank < 2)
    return permute(
      t,
      t.shape.map((_, i) => i),
    );
  const a = normalizeAxis("transpose", axis0 ?? -2, t.rank);
  const b = normalizeAxis("transpose", axis1 ?? -1, t.rank);
  const axes = t.shape.map((_, i) => i);
  axes[a] = b;
  axes[b] = a;
  return permute(t, axes);
}

/** Selects a range per leading axis (missing axes are taken whole). Always a view. */
export function slice(x: Tensor, spec: readonly (SliceSpec | null | undefined)[]): Tensor {
  const t = asTensor(x, "slice");
  if (!Array.isArray(spec) || spec.length > t.rank) {
    throw new TesseraError("slice", `expected at most ${t.rank} axis specs for shape ${fmtShape(t.shape)}, got ${JSON.stringify(spec)}`);
  }
  const starts: number[] = [];
  const steps: number[] = [];
  const shape: number[] = [];
  for (let i = 0; i < t.rank; i++) {
    const n = t.shape[i]!;
    const s = spec[i] ?? {};
    const step = s.step ?? 1;
    if (!Number.isInteger(step) || step < 1) throw new TesseraError("slice", `step must be a positive integer, got ${step} on axis ${i}`);
    for (const [k, v] of [
      ["start", s.start],
      ["end", s.end],
    ] as const) {
      if (v !== undefined && !Number.isInteger(v)) throw new TesseraError("slice", `${k} must be an integer, got ${v} on axis ${i}`);
    }
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
    const start = clamp(s.start ?? 0);
    const end = clamp(s.end ?? n);
    starts.push(start);
    steps.push(step);
    shape.push(Math.max(0, Math.ceil((end - start) / step)));
  }
  return recordOp("slice", [t], { starts, steps, shape }, () => {
    let offset = t.offset;
    for (let i = 0; i < t.rank; i++) offset += starts[i]! * t.strides[i]!;
    return viewTensor(
      t,
      shape,
      t.strides.map((s, i) => s * steps[i]!),
      shape.some((d) => d === 0) ? 0 : offset,
    );
  });
}

/** Broadcasts to `shape` without copying (size-1 dims get stride 0; new leading dims allowed). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const t = asTensor(x, "expand");
  assertShape(
    "expand",
    shape.map((d, i) => (d === -1 && i >= shape.length - t.rank ? 0 : d)),
  );
  const target = shape.map((d, i) => (d === -1 ? t.shape[i - (shape.length - t.rank)]! : d));
  if (target.length < t.rank) {
    throw new TesseraError("expand", `cannot expand ${fmtShape(t.shape)} to fewer dimensions ${fmtShape(shape)}`);
  }
  const lead = target.length - t.rank;
  const strides = new Array<number>(target.length).fill(0);
  for (let i = 0; i < t.rank; i++) {
    const d = t.shape[i]!;
    const want = target[lead + i]!;
    if (d !== want && d !== 1) {
      throw new TesseraError("expand", `cannot expand ${fmtShape(t.shape)} to ${fmtShape(target)}: dimension ${i} is ${d} (only size-1 dims expand)`);
    }
    strides[lead + i] = d === want ? t.strides[i]! : 0;
  }
  return recordOp("expand", [t], { shape: target }, () => viewTensor(t, target, strides, t.offset));
}

/** Merges axes startAxis..endAxis into one. */
export function flatten(x: Tensor, startAxis = 0, endAxis = -1): Tensor {
  const t = asTensor(x, "flatten");
  if (t.rank === 0) return reshape(t, [1]);
  const a = normalizeAxis("flatten", startAxis, t.rank);
  const b = normalizeAxis("flatten", endAxis, t.rank);
  if (b < a) throw new TesseraError("flatten", `endAxis ${endAxis} comes before startAxis ${startAxis}`);
  const shape = [...t.shape.slice(0, a), sizeOf(t.shape.slice(a, b + 1)), ...t.shape.slice(b + 1)];
  return reshape(t, shape);
}

/** Removes size-1 axes (all of them, or the given ones, which must have size 1). */
export function squeeze(x: Tensor, axes?: number | number[]): Tensor {
  const t = asTensor(x, "squeeze");
  const drop = axes === undefined ? t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normalizeAxes("squeeze", axes, t.rank);
  for (const a of drop) {
    if (t.shape[a] !== 1) throw new TesseraError("squeeze", `axis ${a} has size ${t.shape[a]}, expected 1 (shape ${fmtShape(t.shape)})`);
  }
  return reshape(
    t,
    t.shape.filter((_, i) => !drop.includes(i)),
  );
}

/** Inserts a size-1 axis at `axis` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const t = asTensor(x, "unsqueeze");
  const a = normalizeAxis("unsqueeze", axis, t.rank + 1);
  const shape = [...t.shape];
  shape.splice(a, 0, 1);
  return reshape(t, shape);
}
