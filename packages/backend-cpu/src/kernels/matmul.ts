import type { StridedView, TypedArray } from "@tessera/tensor";
import { dataOf } from "../buffer.js";

/**
 * out[b] = a[b] @ b[b] for strided 3-D views, i-k-j order over a double-precision row
 * accumulator: deterministic, and cache-friendly when b's rows are contiguous.
 */
export function matmul(a: StridedView, b: StridedView, out: TypedArray): void {
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const da = dataOf(a.buffer);
  const db = dataOf(b.buffer);
  const [sab, sam, sak] = a.strides as [number, number, number];
  const [sbb, sbk, sbn] = b.strides as [number, number, number];
  const acc = new Float64Array(N);
  for (let bi = 0; bi < B; bi++) {
    const aBase = a.offset + bi * sab;
    const bBase = b.offset + bi * sbb;
    for (let m = 0; m < M; m++) {
      acc.fill(0);
      const aRow = aBase + m * sam;
      for (let k = 0; k < K; k++) {
        const av = da[aRow + k * sak]!;
        if (av === 0) continue;
        const bRow = bBase + k * sbk;
        for (let n = 0; n < N; n++) acc[n]! += av * db[bRow + n * sbn]!;
      }
      out.set(acc, (bi * M + m) * N);
    }
  }
}
