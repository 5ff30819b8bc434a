import type { ReduceOp, TypedArray } from "@tessera/tensor";

/** Reduces each row of x viewed as [outer, inner] into out[row]; float sums accumulate in doubles. */
export function reduce(op: ReduceOp, x: TypedArray, outer: number, inner: number, out: TypedArray): void {
  for (let r = 0, base = 0; r < outer; r++, base += inner) {
    switch (op) {
      case "sum": {
        let acc = 0;
        for (let i = 0; i < inner; i++) acc += x[base + i]!;
        out[r] = acc;
        break;
      }
      case "prod": {
        let acc = 1;
        for (let i = 0; i < inner; i++) acc *= x[base + i]!;
        out[r] = acc;
        break;
      }
      case "max":
      case "min": {
        const isMax = op === "max";
        let acc = x[base]!;
        for (let i = 1; i < inner && !Number.isNaN(acc); i++) {
          const v = x[base + i]!;
          if (Number.isNaN(v) || (isMax ? v > acc : v < acc)) acc = v;
        }
        out[r] = acc;
        break;
      }
      case "argmax":
      case "argmin": {
        const isMax = op === "argmax";
        let best = 0;
        let acc = x[base]!;
        for (let i = 1; i < inner && !Number.isNaN(acc); i++) {
          const v = x[base + i]!;
          if (Number.isNaN(v) || (isMax ? v > acc : v < acc)) {
            acc = v;
            best = i;
          }
        }
        out[r] = best;
        break;
      }
    }
  }
}
