/**
 * Host-side simplification of strided operands before a kernel runs: drop size-1 dimensions and
 * merge neighbours that are contiguous in every operand. Fewer dimensions means fewer divisions
 * per element in the kernel, and most "strided" views of real programs collapse to rank 1.
 */

/** How a kernel addresses one operand after collapsing. */
export type Access = "contig" | "scalar" | "strided";

/** The collapsed iteration space shared by several operands. */
export interface Collapsed {
  shape: number[];
  /** Per operand, its strides over `shape`. */
  strides: number[][];
  /** Per operand, how the kernel should address it. */
  access: Access[];
}

/** Collapses `shape` for operands with the given strides (all over that same shape). */
export function collapse(shape: readonly number[], strides: ReadonlyArray<readonly number[]>): Collapsed {
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = dims.length - 1;
    // Dimension d folds into the previous kept one when, for every operand, stepping the previous
    // one is the same as stepping d across its whole extent.
    if (last >= 0 && strides.every((s, k) => st[k]![last] === s[d]! * n)) {
      dims[last]! *= n;
      for (let k = 0; k < strides.length; k++) st[k]![last] = strides[k]![d]!;
      continue;
    }
    dims.push(n);
    for (let k = 0; k < strides.length; k++) st[k]!.push(strides[k]![d]!);
  }
  const access = st.map((s): Access => {
    if (s.every((x) => x === 0)) return "scalar";
    if (s.length === 1 && s[0] === 1) return "contig";
    return "strided";
  });
  return { shape: dims, strides: st, access };
}

/** Row-major strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const out = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = s;
    s *= shape[i]!;
  }
  return out;
}

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
