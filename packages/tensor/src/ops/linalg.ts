import type { StridedView } from "../backend/contract.js";
import { TesseraError, fmtShape } from "../errors.js";
import { broadcastShapes, contiguousStrides, sizeOf } from "../shape.js";
import { type Tensor, emptyTensor, viewTensor } from "../tensor.js";
import { matmulFallback } from "../fallbacks/matmul.js";
import { asTensor } from "./convert.js";
import { contiguousCopy } from "./elementwise.js";
import { recordOp } from "./record.js";

/**
 * Folds the batch dims of an [..., R, C] view into one, as a 3-D view [B, R, C]; returns null when
 * the batch strides do not merge (the caller copies first).
 */
function as3d(v: StridedView, batch: number): StridedView | null {
  const r = v.shape.length;
  const dims: number[] = [];
  for (let i = 0; i < r - 2; i++) if (v.shape[i] !== 1) dims.push(i);
  for (let j = 0; j + 1 < dims.length; j++) {
    const i = dims[j]!;
    const k = dims[j + 1]!;
    if (v.strides[i] !== v.strides[k]! * v.shape[k]!) return null;
  }
  const stride = dims.length > 0 ? v.strides[dims[dims.length - 1]!]! : 0;
  return { buffer: v.buffer, shape: [batch, v.shape[r - 2]!, v.shape[r - 1]!], strides: [stride, v.strides[r - 2]!, v.strides[r - 1]!], offset: v.offset };
}

/**
 * Matrix product with NumPy semantics: 1-D operands are promoted (and the added dim removed),
 * leading dims broadcast, so [B,M,K] @ [K,N] and [M,K] @ [B,K,N] both work.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const op = "matmul";
  const ta = asTensor(a, op);
  const tb = asTensor(b, op);
  if (ta.rank === 0 || tb.rank === 0) {
    throw new TesseraError(op, `operands must have at least one dimension, got ${fmtShape(ta.shape)} and ${fmtShape(tb.shape)}`);
  }
  if (ta.dtype === "bool" || tb.dtype === "bool" || ta.dtype !== tb.dtype) {
    throw new TesseraError(op, `operands must share a numeric dtype, got ${ta.dtype} and ${tb.dtype}`);
  }
  if (ta.backend !== tb.backend) throw new TesseraError(op, `operands live on different backends ('${ta.backend.name}' and '${tb.backend.name}')`);
  const aShape = ta.rank === 1 ? [1, ta.shape[0]!] : [...ta.shape];
  const bShape = tb.rank === 1 ? [tb.shape[0]!, 1] : [...tb.shape];
  const M = aShape[aShape.length - 2]!;
  const K = aShape[aShape.length - 1]!;
  const K2 = bShape[bShape.length - 2]!;
  const N = bShape[bShape.length - 1]!;
  if (K !== K2) {
    throw new TesseraError(op, `inner dimensions differ: ${fmtShape(ta.shape)} @ ${fmtShape(tb.shape)} (${K} vs ${K2})`);
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  let batchShape: number[];
  try {
    batchShape = broadcastShapes(op, aBatch, bBatch);
  } catch {
    throw new TesseraError(
      op,
      `batch dimensions do not broadcast: ${fmtShape(ta.shape)} @ ${fmtShape(tb.shape)} (batch ${fmtShape(aBatch)} vs ${fmtShape(bBatch)}; each pair of batch dims, aligned from the right, must be equal or 1)`,
    );
  }
  const outShape = [...batchShape, ...(ta.rank === 1 ? [] : [M]), ...(tb.rank === 1 ? [] : [N])];
  return recordOp(op, [ta, tb], {}, () => {
    const batch = sizeOf(batchShape);
    const va = ta.rank === 1 ? viewTensor(ta, aShape, [0, ta.strides[0]!], ta.offset) : ta;
    const vb = tb.rank === 1 ? viewTensor(tb, bShape, [tb.strides[0]!, 0], tb.offset) : tb;
    const out = emptyTensor(ta.backend, [batch, M, N], ta.dtype);
    const temps: Tensor[] = [];
    const as3 = (t: Tensor, rows: number, cols: number): StridedView => {
      const full = [...batchShape, rows, cols];
      const v = expandView(t, full);
      const m = as3d(v, batch);
      if (m) return m;
      const expanded = viewTensor(t, v.shape, v.strides, v.offset);
      const c = contiguousCopy(expanded);
      expanded.dispose();
      temps.push(c);
      return { buffer: c.storage.buffer, shape: [batch, rows, cols], strides: [rows * cols, cols, 1], offset: 0 };
    };
    if (out.size > 0) {
      const kernel = ta.backend.kernels?.matmul;
      if (K === 0) ta.backend.fill(out.storage.buffer, 0);
      else if (kernel) kernel.call(ta.backend.kernels, as3(va, M, K), as3(vb, K, N), out.storage.buffer);
      else matmulFallback(ta.backend, as3(va, M, K), as3(vb, K, N), out);
    }
    for (const t of temps) t.dispose();
    if (va !== ta) va.dispose();
    if (vb !== tb) vb.dispose();
    const result = viewTensor(out, outShape, contiguousStrides(outShape), 0);
    out.dispose();
    return result;
  });
}

/** A view of `t` broadcast to `shape` (stride 0 on broadcast dims), as a raw StridedView. */
function expandView(t: Tensor, shape: readonly number[]): StridedView {
  const rank = shape.length;
  const strides = new Array<number>(rank).fill(0);
  for (let i = 0; i < t.rank; i++) {
    const j = rank - t.rank + i;
    strides[j] = t.shape[i] === 1 && shape[j] !== 1 ? 0 : t.strides[i]!;
  }
  return { buffer: t.storage.buffer, shape, strides, offset: t.offset };
}
