import type { Backend, StridedView } from "../backend/contract.js";
import { type Tensor, emptyTensor } from "../tensor.js";

/** Largest broadcast product the fallback materialises at once (elements). */
const CHUNK_ELEMENTS = 1 << 22;

/**
 * Matrix product from primitives, for backends without a matmul kernel: for a block of rows,
 * out[b,m,n] = sum_k a[b,m,k] * b[b,k,n] as a broadcast multiply [B,m,N,K] then a sum over the
 * last axis. Rows are processed in blocks so the product never exceeds CHUNK_ELEMENTS.
 */
export function matmulFallback(backend: Backend, a: StridedView, b: StridedView, out: Tensor): void {
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const rows = Math.max(1, Math.min(M, Math.floor(CHUNK_ELEMENTS / Math.max(1, B * N * K))));
  const dtype = out.dtype;
  for (let m0 = 0; m0 < M; m0 += rows) {
    const m = Math.min(rows, M - m0);
    const shape = [B, m, N, K];
    // a[b, m0+i, k] broadcast over n; b[b, k, n] read transposed, broadcast over rows.
    const av: StridedView = { buffer: a.buffer, shape, strides: [a.strides[0]!, a.strides[1]!, 0, a.strides[2]!], offset: a.offset + m0 * a.strides[1]! };
    const bv: StridedView = { buffer: b.buffer, shape, strides: [b.strides[0]!, 0, b.strides[2]!, b.strides[1]!], offset: b.offset };
    const prod = emptyTensor(backend, shape, dtype);
    backend.binary("mul", av, bv, prod.storage.buffer);
    const part = emptyTensor(backend, [B, m, N], dtype);
    backend.reduce("sum", prod.storage.buffer, B * m * N, K, part.storage.buffer);
    prod.dispose();
    // Scatter the block's rows into out[:, m0:m0+m, :].
    backend.copy(
      { buffer: part.storage.buffer, shape: [B, m, N], strides: [m * N, N, 1], offset: 0 },
      { buffer: out.storage.buffer, shape: [B, m, N], strides: [M * N, N, 1], offset: m0 * N },
    );
    part.dispose();
  }
}
