import type { BackendBuffer, HeavyKernels, StridedView } from "@tessera/tensor";
import { ptrOf } from "../buffer.js";
import type { WasmKernels } from "../wasm/index.js";
import { referenceKernels } from "./reference.js";

/** How sgemm reads a strided matrix: row-major (or transposed) with leading dimension `ld`. */
interface GemmOperand {
  trans: boolean;
  ld: number;
}

/**
 * The sgemm layout of a rows×cols matrix with strides (sRow, sCol) in elements, or null when
 * neither its rows nor its columns are contiguous (or it repeats rows: stride 0).
 */
export function gemmOperand(rows: number, cols: number, sRow: number, sCol: number): GemmOperand | null {
  if (cols === 1 || sCol === 1) {
    const ld = rows === 1 ? cols : sRow;
    if (ld >= cols) return { trans: false, ld };
  }
  if (rows === 1 || sRow === 1) {
    const ld = cols === 1 ? rows : sCol;
    if (ld >= rows) return { trans: true, ld };
  }
  return null;
}

/**
 * out[b] = a[b] @ b[b] with one sgemm per batch (a single one when a's batches stack into one
 * row-major matrix and b is shared); false when an operand's layout does not suit sgemm or
 * the dtype is not float32, so the caller runs the reference kernel.
 */
function sgemmMatmul(k: WasmKernels, a: StridedView, b: StridedView, out: BackendBuffer): boolean {
  if (a.buffer.dtype !== "float32") return false;
  const [B, M, K] = a.shape as [number, number, number];
  const N = b.shape[2]!;
  const [sab, sam, sak] = a.strides as [number, number, number];
  const [sbb, sbk, sbn] = b.strides as [number, number, number];
  const opA = gemmOperand(M, K, sam, sak);
  const opB = gemmOperand(K, N, sbk, sbn);
  if (!opA || !opB) return false;
  const A = ptrOf(a.buffer) + 4 * a.offset;
  const Bm = ptrOf(b.buffer) + 4 * b.offset;
  const C = ptrOf(out);
  // [B, M, K] with rows evenly spaced across batches, times one shared matrix: one GEMM
  if (!opA.trans && sbb === 0 && (B === 1 || sab === M * opA.ld)) {
    k.sgemm(B * M, N, K, A, opA.ld, false, Bm, opB.ld, opB.trans, C, N, 0);
    return true;
  }
  for (let i = 0; i < B; i++) {
    k.sgemm(M, N, K, A + 4 * i * sab, opA.ld, opA.trans, Bm + 4 * i * sbb, opB.ld, opB.trans, C + 4 * i * M * N, N, 0);
  }
  return true;
}

/**
 * Heavy kernels on the WebAssembly SIMD module, over buffers in its shared memory: GEMM and
 * convolutions and max pooling in wasm; average pooling and gather stay the reference
 * kernels, on the same memory.
 */
export function wasmKernels(k: WasmKernels): HeavyKernels {
  return {
    ...referenceKernels,
    matmul(a, b, out) {
      if (!sgemmMatmul(k, a, b, out)) referenceKernels.matmul(a, b, out);
    },
    conv2d: (x, xs, w, ws, out, _os, p) => k.conv2d(ptrOf(x), xs, ptrOf(w), ws, ptrOf(out), p),
    conv2dBackwardInput: (dy, _ds, w, ws, out, xs, p) => k.conv2dBackwardInput(ptrOf(dy), ptrOf(w), ws, ptrOf(out), xs, p),
    conv2dBackwardWeight: (x, xs, dy, _ds, out, ws, p) => k.conv2dBackwardWeight(ptrOf(x), xs, ptrOf(dy), ptrOf(out), ws, p),
    maxPool2d: (x, xs, out, os, p) => k.maxPool2d(ptrOf(x), xs, ptrOf(out), os, p),
    maxPool2dBackward: (x, xs, dy, ds, out, p) => k.maxPool2d(ptrOf(x), xs, ptrOf(dy), ds, p, ptrOf(out)),
  };
}
