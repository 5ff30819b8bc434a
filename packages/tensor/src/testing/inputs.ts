import type { DType } from "../dtype.js";
import type { RandomState } from "../random/random-state.js";
import { sizeOf } from "../shape.js";
import { tensor } from "../ops/convert.js";
import { slice, transpose } from "../ops/views.js";
import type { Tensor } from "../tensor.js";
import { type RefArray, ref } from "./reference.js";

/**
 * How an input's values are drawn. `sparse`: non-zero floats except that row r (along the last
 * axis) holds r mod 3 exact zeros, so reductions over it see groups of 0, 1 and 2 zeros. `ties`:
 * values from {-1, 0, 1} with about one NaN in ten, so windows hold equal maxima and NaNs.
 */
export type ValueKind = "float" | "positive" | "int" | "bool" | "index" | "distinct" | "sparse" | "pooled" | "ties";

/** How an input tensor is laid out in memory (the values are the same either way). */
export type Layout = "contiguous" | "transposed" | "strided" | "offset";

/** One input of a conformance case. */
export interface InputSpec {
  /** Shape of the input. */
  shape: number[];
  /** What values to draw (random floats by default). */
  kind?: ValueKind;
  /** How the input is laid out in memory (contiguous by default). */
  layout?: Layout;
  /** For `index`: values are drawn from [0, bound). */
  bound?: number;
}

/** The dtype an input of this kind is created with. */
export function dtypeOfKind(kind: ValueKind): DType {
  return kind === "int" || kind === "index" ? "int32" : kind === "bool" ? "bool" : "float32";
}

/** Draws the values of an input (float32-exact, so the float64 reference sees the same numbers). */
export function drawValues(spec: InputSpec, rng: RandomState): RefArray {
  const n = sizeOf(spec.shape);
  const kind = spec.kind ?? "float";
  const values = new Float64Array(n);
  if (kind === "sparse") {
    const last = spec.shape[spec.shape.length - 1] ?? 1;
    for (let i = 0; i < n; i++) {
      const [r, c] = [Math.floor(i / last), i % last];
      const u = rng.randomSample();
      // Magnitudes stay in [0.5, 2]: products of the others are far from 0 and from overflow.
      values[i] = (((c - r) % last) + last) % last < r % 3 ? 0 : Math.fround((u < 0.5 ? -1 : 1) * (0.5 + (u < 0.5 ? u : u - 0.5) * 3));
    }
  } else if (kind === "pooled") {
    // A gradient as a 2×2 max pool passes it back: three values in four are zero.
    for (let i = 0; i < n; i++) {
      const u = rng.randomSample();
      values[i] = u < 0.75 ? 0 : Math.fround((u - 0.875) * 16);
    }
  } else if (kind === "ties") {
    for (let i = 0; i < n; i++) {
      const u = rng.randomSample();
      values[i] = u < 0.1 ? Number.NaN : Math.floor(((u - 0.1) / 0.9) * 3) - 1;
    }
  } else if (kind === "distinct") {
    // A shuffled grid: no ties, and neighbours differ by far more than a numeric-gradient step.
    const perm = rng.permutation(n);
    for (let i = 0; i < n; i++) values[i] = Math.fround((perm[i]! - n / 2) * 0.37 + rng.uniform(-0.05, 0.05, 1)[0]!);
  } else {
    for (let i = 0; i < n; i++) {
      const u = rng.randomSample();
      values[i] =
        kind === "float"
          ? Math.fround(u * 4 - 2)
          : kind === "positive"
            ? Math.fround(0.2 + u * 2.8)
            : kind === "int"
              ? Math.floor(u * 19) - 9
              : kind === "bool"
                ? u < 0.5
                  ? 1
                  : 0
                : Math.floor(u * (spec.bound ?? 1));
    }
  }
  return ref(spec.shape, values);
}

/** Makes a tensor holding `values` with the requested memory layout. */
export function makeInput(values: RefArray, spec: InputSpec): Tensor {
  const dtype = dtypeOfKind(spec.kind ?? "float");
  const shape = values.shape;
  const layout = spec.layout ?? "contiguous";
  if (layout === "transposed" && shape.length >= 2) {
    const r = shape.length;
    const swapped = [...shape.slice(0, r - 2), shape[r - 1]!, shape[r - 2]!];
    const data = new Float64Array(values.data.length);
    const [A, B] = [shape[r - 2]!, shape[r - 1]!];
    const batch = values.data.length / Math.max(1, A * B);
    for (let b = 0; b < batch; b++) for (let i = 0; i < A; i++) for (let j = 0; j < B; j++) data[b * A * B + j * A + i] = values.data[b * A * B + i * B + j]!;
    const base = tensor(data, { dtype, shape: swapped });
    const view = transpose(base);
    base.dispose();
    return view;
  }
  if (layout === "strided" && shape.length >= 1) {
    const r = shape.length;
    const last = shape[r - 1]!;
    const wide = [...shape.slice(0, r - 1), last * 2];
    const data = new Float64Array(values.data.length * 2);
    for (let i = 0; i < values.data.length; i++) data[2 * i] = values.data[i]!;
    const base = tensor(data, { dtype, shape: wide });
    const view = slice(base, [...shape.slice(0, r - 1).map(() => null), { step: 2 }]);
    base.dispose();
    return view;
  }
  if (layout === "offset" && shape.length >= 1) {
    const rows = shape[0]!;
    const rowSize = sizeOf(shape.slice(1)); // not length / rows: rows may be 0
    const data = new Float64Array(values.data.length + rowSize);
    data.set(values.data, rowSize);
    const base = tensor(data, { dtype, shape: [rows + 1, ...shape.slice(1)] });
    const view = slice(base, [{ start: 1 }]);
    base.dispose();
    return view;
  }
  return tensor(values.data, { dtype, shape });
}
