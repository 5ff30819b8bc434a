import { type Tensor, viewTensor } from "../tensor.js";
import { arange } from "../ops/creation.js";
import { cast, equal } from "../ops/elementwise.js";
import { matmul } from "../ops/linalg.js";
import { tidy } from "../memory/scope.js";

/**
 * Index-select from primitives: a one-hot [m, n] matrix times x viewed as [outer, n, inner].
 * Exact for float32 data and for int32 values below 2^24 in magnitude.
 */
export function gatherFallback(x: Tensor, indices: Tensor, outer: number, n: number, inner: number): Tensor {
  return tidy(() => {
    const range = arange(n, { dtype: "int32", backend: x.backend });
    const rows = viewTensor(indices, [indices.size, 1], [1, 0], 0);
    const oh = cast(equal(rows, range), "float32");
    const x3 = viewTensor(x, [outer, n, inner], [n * inner, inner, 1], 0);
    const xf = x.dtype === "float32" ? x3 : cast(x3, "float32");
    const r = matmul(oh, xf);
    return x.dtype === "float32" ? r : cast(r, x.dtype);
  });
}
